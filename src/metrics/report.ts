// Results -> metrics, as pure functions: a DiagnosisReport (or the outcome of
// one scheduled check) becomes a list of samples. Nothing here decides
// anything the diagnosis did not: success is "no critical finding", states
// and statuses are copied from the report.
//
// Each report section the check table fills has its renderer in
// SECTION_METRICS; a section without one is a compile error, and a check
// renders the sections of its rows (src/checks/by-group.ts).
import type { AgentCheck } from '../config/schema.js';
import { findingsOfRun, ownedFindings, sectionsOfGroups } from '../checks/by-group.js';
import type { ReportSectionKey } from '../checks/types.js';
import type { DataPathReport, DiagnosisReport } from '../diagnosis/report.js';
import type { Finding } from '../diagnosis/finding.js';
import type { DataPathResult } from '../probes/datapath.js';
import type { RevocationStatus } from '../probes/revocation.js';
import { PORT_STATES, REVOCATION_STATES, type InstanceFamily } from './families.js';

export interface Sample {
  readonly family: InstanceFamily;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** What the agent keeps of one run of one check for one instance. */
export interface CheckOutcome {
  readonly check: AgentCheck;
  /** Unix time in seconds. */
  readonly completedAt: number;
  readonly durationSeconds: number;
  /** Absent when the run did not complete (deadline, internal error). */
  readonly report?: DiagnosisReport;
  /** Why the run did not complete; a fixed code, never a secret. */
  readonly error?: string;
}

/** At most this many ports per instance and endpoint become series (a wide scan is summarised in findings). */
export const MAX_PORT_SERIES = 64;

type Add = (family: InstanceFamily, labels: Record<string, string>, value: number) => void;

/** TCP state and connect time, TLS version, expiry and trust of one endpoint of the data path. */
function endpointSamples(endpoint: string, path: DataPathResult, startedAt: number, add: Add): void {
  const { tcp } = path;
  for (const s of PORT_STATES) add('portState', { endpoint, port: String(tcp.port), state: s }, s === tcp.state ? 1 : 0);
  add('portConnectDuration', { endpoint, port: String(tcp.port) }, tcp.connectSeconds);
  const tls = path.tls;
  const info = tls ? (tls.ok ? tls : tls.info) : undefined;
  if (!info) return;
  add('tlsInfo', { endpoint, version: info.protocol }, 1);
  const leafTo = info.chain[0]?.validTo;
  const expiry = leafTo !== undefined ? Date.parse(leafTo) / 1000 : startedAt + info.expiresInSeconds;
  if (Number.isFinite(expiry)) add('tlsExpiry', { endpoint }, Math.round(expiry));
  add('tlsTrusted', { endpoint }, info.trusted && info.hostnameMatch ? 1 : 0);
}

/** The time of each phase of the gateway's data path (those that ran). */
function phaseSamples(d: DataPathReport, add: Add): void {
  const phases: Array<[string, number | undefined]> = [['tcp', d.tcp.connectSeconds], ['prelogin', d.prelogin?.seconds],
    ['tls', d.tls?.seconds], ['login', d.login?.seconds]];
  for (const [phase, seconds] of phases) if (seconds !== undefined) add('phaseDuration', { phase }, seconds);
}

const REVOCATION_RANK: Record<RevocationStatus, number> = { revoked: 3, unknown: 2, unchecked: 1, good: 0 };

/** The worst status of the chains the data path served (HTTPS endpoints' chains are not the instance's). */
function servedChainStatus(rev: NonNullable<DiagnosisReport['revocation']>): RevocationStatus | undefined {
  const https = new Set((rev.https ?? []).map((h) => h.url));
  const statuses = rev.chains.filter((c) => c.subject === undefined || !https.has(c.subject)).flatMap((c) => c.certificates.map((x) => x.status));
  return statuses.length === 0 ? undefined : statuses.reduce((a, b) => (REVOCATION_RANK[b] > REVOCATION_RANK[a] ? b : a));
}

/** One renderer per report section: a section the table fills and the metrics forget does not compile. */
const SECTION_METRICS: { readonly [K in ReportSectionKey]: (report: DiagnosisReport, add: Add) => void } = {
  dns: (report, add) => {
    const seen = new Set<string>();
    for (const r of report.dns) {
      const key = `${r.server}/${r.role}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const labels = { resolver: r.server, role: r.role };
      add('dnsSuccess', labels, r.ok && r.addresses.length > 0 ? 1 : 0);
      add('dnsDuration', labels, r.seconds);
      add('dnsAddresses', labels, r.addresses.length);
    }
  },
  managementEndpoint: (report, add) => add('managementPresent', {}, report.managementEndpoint.present ? 1 : 0),
  dnsCoverage: (report, add) => {
    for (const c of report.dnsCoverage) add('dnsCoverageFailures', { resolver: c.server }, c.failures.length);
  },
  dataPath: (report, add) => {
    const d = report.dataPath;
    if (!d) return;
    const startedAt = Date.parse(report.startedAt) / 1000;
    endpointSamples('gateway', d, startedAt, add);
    phaseSamples(d, add);
    if (d.redirect?.path) endpointSamples('redirect', d.redirect.path, startedAt, add);
    if (d.public) endpointSamples('public', d.public, startedAt, add);
  },
  managementFirewall: (report, add) => {
    const fw = report.managementFirewall;
    if (!fw || !fw.ok || !fw.applicable) return;
    for (const p of fw.ports.slice(0, MAX_PORT_SERIES)) {
      const port = String(p.port);
      for (const s of PORT_STATES) add('portState', { endpoint: 'management', port, state: s }, s === p.state ? 1 : 0);
      add('portConnectDuration', { endpoint: 'management', port }, p.seconds);
    }
  },
  revocation: (report, add) => {
    const rev = report.revocation;
    if (!rev) return;
    const status = servedChainStatus(rev);
    if (status) for (const s of REVOCATION_STATES) add('revocationStatus', { status: s }, s === status ? 1 : 0);
    // A host is up when every URL of it answered as the CA's service.
    const byHost = new Map<string, boolean>();
    for (const e of rev.endpoints) byHost.set(e.host, (byHost.get(e.host) ?? true) && e.ok);
    for (const [host, up] of byHost) add('revocationEndpointUp', { host }, up ? 1 : 0);
  },
};

export interface RenderOptions {
  /** Checks whose sections to render (the sections of their rows in the check table). */
  readonly checks: ReadonlySet<AgentCheck>;
  /** The instance label; absent for /probe, where Prometheus sets it by relabelling. */
  readonly instance?: string | undefined;
}

/** The samples a diagnosis report yields for the given checks (findings excluded: see findingSamples). */
export function reportToMetrics(report: DiagnosisReport, opts: RenderOptions): Sample[] {
  const base: Record<string, string> = opts.instance === undefined ? {} : { instance: opts.instance };
  const out: Sample[] = [];
  const add: Add = (family, labels, value) => {
    out.push({ family, labels: { ...base, ...labels }, value });
  };
  for (const section of sectionsOfGroups(opts.checks)) SECTION_METRICS[section](report, add);
  return out;
}

/** One series per active finding, de-duplicated by id (the same id can be raised for several resolvers). */
export function findingSamples(findings: readonly Finding[], instance?: string): Sample[] {
  const seen = new Map<string, Finding>();
  for (const x of findings) if (!seen.has(x.id)) seen.set(x.id, x);
  return [...seen.values()].map((x) => ({ family: 'finding' as const, value: 1,
    labels: { ...(instance === undefined ? {} : { instance }), id: x.id, severity: x.severity } }));
}

/**
 * What the agent keeps of an outcome: the report's samples (rendered once, when it arrives), its
 * verdict and findings; the report itself is dropped, which bounds memory per instance.
 */
export interface StoredOutcome {
  readonly check: AgentCheck;
  readonly completedAt: number;
  readonly durationSeconds: number;
  readonly error?: string;
  readonly verdict?: DiagnosisReport['verdict'];
  /** The run's own findings (findingsOfRun). */
  readonly findings?: readonly Finding[];
  /** False when the check could not reach what it checks (its state is "not reached"): no success then. */
  readonly reached: boolean;
  readonly samples: readonly Sample[];
}

export function storeOutcome(outcome: CheckOutcome, instance: string, reached = true): StoredOutcome {
  const r = outcome.report;
  return {
    check: outcome.check, completedAt: outcome.completedAt, durationSeconds: outcome.durationSeconds, reached,
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    // The run's own findings (its rows', the name's, the host's), kept once: what it only needed (the gateway's
    // handshake for the revocation check's chain) is another check's to report.
    ...(r ? { verdict: r.verdict, findings: findingsOfRun(r.findings, new Set([outcome.check])) } : {}),
    samples: r ? reportToMetrics(r, { checks: new Set([outcome.check]), instance }) : [],
  };
}

/** Success, duration, completion time and error of one check outcome. */
export function outcomeSamples(outcome: StoredOutcome, instance: string): Sample[] {
  const labels = { instance, check: outcome.check };
  const critical = outcome.findings?.some((x) => x.severity === 'critical') ?? true;
  return [
    { family: 'checkSuccess', labels, value: outcome.reached && outcome.findings && !critical ? 1 : 0 },
    { family: 'checkDuration', labels, value: outcome.durationSeconds },
    { family: 'checkLastCompleted', labels, value: outcome.completedAt },
    { family: 'checkLastError', labels, value: outcome.error === undefined ? 0 : 1 },
  ];
}

export interface InstanceView {
  readonly fqdn: string;
  readonly kind: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly outcomes: ReadonlyMap<AgentCheck, StoredOutcome>;
}

/** The active findings of an instance: each check's own findings from its latest completed report. */
export function activeFindings(view: InstanceView): Finding[] {
  const out: Finding[] = [];
  const nameRun = view.outcomes.get('nameResolution')?.findings;
  for (const [check, outcome] of view.outcomes) {
    if (!outcome.findings) continue;
    // Until name resolution has run on its own, the name findings of the other checks stand in for it.
    out.push(...(check !== 'nameResolution' && !nameRun && out.length === 0 ? outcome.findings : ownedFindings(outcome.findings, check)));
  }
  const seen = new Set<string>();
  return out.filter((x) => (seen.has(x.id) ? false : (seen.add(x.id), true)));
}

/** Every sample of one instance: info, each check's outcome and sections, active findings. */
export function instanceSamples(view: InstanceView): Sample[] {
  const out: Sample[] = [{ family: 'instanceInfo', labels: { ...view.labels, instance: view.fqdn, kind: view.kind }, value: 1 }];
  for (const outcome of view.outcomes.values()) {
    out.push(...outcomeSamples(outcome, view.fqdn), ...outcome.samples);
  }
  out.push(...findingSamples(activeFindings(view), view.fqdn));
  return out;
}
