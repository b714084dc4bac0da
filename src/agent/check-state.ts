// The state of one run of one agent check: its own findings decide it, and a
// check that could not run because what it needs was missing says so ("not
// reached because ...") instead of failing with no finding of its own. Every
// run resolves the name first, as diagnose does; what each check needs from
// that is written once, in NEEDS, so the central check table can take it over.
import type { AgentCheck } from '../config/schema.js';
import { verdictOf, type Finding, type Verdict } from '../diagnosis/finding.js';
import type { DiagnosisReport } from '../diagnosis/report.js';
import { ownedFindings } from '../metrics/report.js';

export type CheckState = Verdict | 'not-reached' | 'error';

export interface CheckStatus {
  readonly state: CheckState;
  /** Why it did not run or complete, or what it found there was nothing to check. */
  readonly reason?: string;
  /** The check's own findings (name findings belong to the name resolution check). */
  readonly findings: readonly Finding[];
}

type NeedResult = { readonly met: true; readonly note?: string } | { readonly met: false; readonly because: string };

const MET: NeedResult = { met: true };

function ids(findings: readonly Finding[]): string {
  return [...new Set(findings.map((f) => f.id))].join(', ');
}

/** Why name resolution gave nothing to go on, with the findings that say so. */
function nameFailure(report: DiagnosisReport): string {
  const critical = report.findings.filter((f) => /^(DNS|NAME)-/.test(f.id) && f.severity === 'critical');
  return critical.length > 0 ? `name resolution failed (${ids(critical)})` : 'name resolution gave no address';
}

/** What each check needs from the run's name resolution (and the guard) before it can probe anything. */
export const NEEDS: Readonly<Record<AgentCheck, (report: DiagnosisReport) => NeedResult>> = {
  nameResolution: () => MET,
  // TCP, PRELOGIN and TLS go to the address the name resolves to.
  dataPath: (r) => (r.dataPath ? MET : { met: false, because: nameFailure(r) }),
  // The ports are on the management endpoint: the CNAME target without ".vnet", resolved in turn.
  management: (r) => {
    const m = r.managementEndpoint;
    if (!m.present) return r.dns.some((d) => d.ok) ? { met: true, note: `not applicable: ${m.reason}` } : { met: false, because: nameFailure(r) };
    if (m.addresses.length === 0) {
      const own = r.findings.filter((f) => f.id === 'DNS-007');
      return { met: false, because: `the management endpoint name ${m.host} did not resolve${own.length ? ` (${ids(own)})` : ''}` };
    }
    const fw = r.managementFirewall;
    if (fw && fw.applicable && !fw.ok && fw.code === 'GUARD_DENIED') {
      return { met: false, because: `the address guard refused ${fw.address} (outside allowCidrs; see docs/agent.md, "Running it safely")` };
    }
    return MET;
  },
  // The platform's revocation endpoints are checked whatever the instance name gives.
  revocation: () => MET,
};

/** The state of a run: from its report, or the reason it did not complete. */
export function checkStatus(check: AgentCheck, outcome: { readonly report?: DiagnosisReport | undefined; readonly error?: string | undefined }): CheckStatus {
  const { report } = outcome;
  if (!report) return { state: 'error', reason: `did not complete: ${outcome.error ?? 'unknown error'}`, findings: [] };
  const findings = ownedFindings(report, check);
  const need = NEEDS[check](report);
  if (!need.met) return { state: 'not-reached', reason: `not reached because ${need.because}`, findings };
  return { state: verdictOf(findings), ...(need.note ? { reason: need.note } : {}), findings };
}

/**
 * The state as a change log shows it: "failing: DNS-001", "healthy", "not reached because ...". A
 * change of state, of the ids of its critical and warning findings, or of why it did not run is a
 * change; info findings come and go (a login rate-limited on one run, done on the next) and are not.
 */
export function stateKey(status: CheckStatus | undefined): string {
  if (!status) return 'none';
  if (status.state === 'not-reached' || status.state === 'error') return status.reason ?? status.state;
  const ids = [...new Set(status.findings.filter((f) => f.severity !== 'info').map((f) => f.id))].sort().join(', ');
  return ids ? `${status.state}: ${ids}` : status.state;
}
