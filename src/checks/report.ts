// The diagnosis document from a run of the plan: each check's result in the
// report section its row names, the check lines in table order (with a line for
// every check that was not reached, saying because of what), the findings with
// their consequences marked, root causes first. Pure.
import type { StallReport } from '../net/stall.js';
import { NOT_REACHED, type CheckLine } from '../diagnosis/check.js';
import { causalOrder, markConsequences } from '../diagnosis/causes.js';
import { distinctFindings } from '../diagnosis/datapath-rules.js';
import { verdictOf, type Finding } from '../diagnosis/finding.js';
import { applyHostStall } from '../diagnosis/host-rules.js';
import {
  REPORT_SCHEMA_VERSION, type DataPathReport, type DiagnosisReport, type ManagementEndpointReport, type ResolverReport,
} from '../diagnosis/report.js';
import type { RevocationReport } from '../probes/revocation.js';
import { VERSION } from '../version.js';
import type { PlanRun } from './plan.js';
import type { CheckId, CheckResults, DiagnoseInput, Outcome, Outcomes } from './types.js';

function ran<K extends CheckId>(outcomes: Outcomes, id: K): CheckResults[K] | undefined {
  const o = outcomes[id] as Outcome<K> | undefined;
  return o?.state === 'ran' ? o.result : undefined;
}

function dnsSection(outcomes: Outcomes): ResolverReport[] {
  return (ran(outcomes, 'names') ?? []).map(({ server, role, result: r }) => ({
    server, role, ok: r.ok, chain: r.chain, addresses: r.addresses, canonicalName: r.canonicalName, transport: r.transport,
    seconds: r.seconds, ...(r.error ? { error: r.error } : {}),
  }));
}

function managementSection(outcomes: Outcomes): ManagementEndpointReport {
  const o = outcomes.managementName;
  if (o?.state === 'ran') {
    const m = o.result;
    return { present: true, host: m.host, cnameTarget: m.cnameTarget, addresses: m.result.addresses, seconds: m.result.seconds,
      ...(m.result.error ? { error: m.result.error } : {}) };
  }
  return { present: false, reason: o?.because ?? 'not looked up' };
}

function dataPathSection(outcomes: Outcomes): DataPathReport | undefined {
  const path = ran(outcomes, 'gateway');
  if (!path) return undefined;
  const login = ran(outcomes, 'login');
  const redirect = ran(outcomes, 'redirect');
  const redirectPorts = ran(outcomes, 'redirectRange');
  const pub = ran(outcomes, 'publicEndpoint');
  return { ...path, ...(login ? { login } : {}), ...(redirect ? { redirect } : {}), ...(redirectPorts ? { redirectPorts } : {}),
    ...(pub?.path ? { public: pub.path } : {}),
    ...(pub ? { publicName: { host: pub.host, addresses: pub.addresses, ...(pub.error ? { error: pub.error } : {}) } } : {}) };
}

function revocationSection(outcomes: Outcomes): RevocationReport {
  const https = ran(outcomes, 'httpsChains');
  return { chains: [...(ran(outcomes, 'chainRevocation') ?? []), ...(https?.chains ?? [])], endpoints: ran(outcomes, 'revocationEndpoints') ?? [],
    ...(https ? { https: https.results } : {}) };
}

/**
 * The cause a check's failing lines follow from: the row raised consequences, and nothing of its own that is
 * not their cause (e.g. the login failing after REDIRECT-007, or the TLS line after REV-008). Else undefined.
 */
function rowCause(check: string, findings: readonly Finding[]): string | undefined {
  const own = findings.filter((f) => f.check === check);
  const consequences = own.filter((f) => f.causedBy !== undefined);
  const causes = new Set(consequences.map((f) => f.causedBy));
  const unexplained = own.filter((f) => f.causedBy === undefined && f.severity !== 'info' && !causes.has(f.id));
  return unexplained.length === 0 ? consequences[0]?.causedBy : undefined;
}

/** Every row's lines in table order; a row that did not run says why (off rows only when that is news). */
function checkLines(run: PlanRun, findings: readonly Finding[]): CheckLine[] {
  return run.rows.flatMap((row): CheckLine[] => {
    const check = row.id;
    const o = run.outcomes[row.id];
    if (o?.state === 'ran') {
      // A failing line of a check whose failure follows from another finding says so, as its findings do.
      const cause = rowCause(check, findings);
      return (run.lines.get(row.id) ?? []).map((l) => ({ ...l, check,
        ...(cause && l.causedBy === undefined && (l.status === 'fail' || l.status === 'warn') ? { causedBy: cause } : {}) }));
    }
    if (o?.state === 'not-reached') {
      return [{ name: row.title, status: 'skip', detail: `${NOT_REACHED}${o.because}${o.cause ? ` (${o.cause})` : ''}`, check, skipped: 'not-reached',
        ...(o.cause ? { causedBy: o.cause } : {}) }];
    }
    if (o?.state === 'off' && !row.quietWhenOff) return [{ name: row.title, status: 'skip', detail: o.because, check, skipped: 'off' }];
    return [];
  });
}

/** How the line of a check that was not reached begins (shared with check-network). */
export { NOT_REACHED };

export interface ReportTiming {
  readonly startedAt: Date;
  readonly durationSeconds: number;
  readonly stall: StallReport;
  readonly timeoutMs: number;
}

export function assembleReport(input: DiagnoseInput, run: PlanRun, timing: ReportTiming): DiagnosisReport {
  const { target } = input;
  const asked = new Set(run.rows.map((r) => r.section));
  const findings: Finding[] = causalOrder(applyHostStall(markConsequences(distinctFindings(run.findings)), timing.stall, timing.timeoutMs));
  const dataPath = dataPathSection(run.outcomes);
  const managementPorts = run.outcomes.managementPorts;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'diagnose',
    tool: { name: 'miprobe', version: VERSION },
    target: { fqdn: target.fqdn, kind: target.kind, port: target.port,
      ...(target.miName ? { miName: target.miName } : {}), ...(target.zoneId ? { zoneId: target.zoneId } : {}),
      ...(target.cloud ? { cloud: target.cloud } : {}), ...(target.publicName ? { publicName: target.publicName } : {}) },
    startedAt: timing.startedAt.toISOString(),
    durationSeconds: timing.durationSeconds,
    host: { warmUpSeconds: run.warmUpSeconds, maxStallSeconds: timing.stall.maxStallMs / 1000, totalStallSeconds: timing.stall.totalStallMs / 1000 },
    verdict: verdictOf(findings),
    dns: dnsSection(run.outcomes),
    managementEndpoint: managementSection(run.outcomes),
    dnsCoverage: ran(run.outcomes, 'coverage') ?? [],
    ...(dataPath ? { dataPath } : {}),
    ...(asked.has('managementFirewall') && managementPorts
      ? { managementFirewall: managementPorts.state === 'ran' ? managementPorts.result : { ok: true as const, applicable: false as const, reason: managementPorts.because } }
      : {}),
    ...(asked.has('revocation') ? { revocation: revocationSection(run.outcomes) } : {}),
    checks: checkLines(run, findings),
    findings,
  };
}
