// Results -> metrics, as pure functions: a DiagnosisReport (or the outcome of
// one scheduled check) becomes a list of samples. Nothing here decides
// anything the diagnosis did not: success is "no critical finding", states
// and statuses are copied from the report.
//
// The report grows sections as capabilities land (dataPath,
// managementFirewall, revocation); they are read defensively here, so a
// section that is absent, or shaped differently than expected, yields no
// samples rather than an error.
import type { AgentCheck } from '../config/schema.js';
import type { DiagnosisReport } from '../diagnosis/report.js';
import type { Finding } from '../diagnosis/finding.js';
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

/** Findings the name resolution check answers for; every check's report repeats them. */
const NAME_FINDING = /^(DNS|NAME)-/;

/** The findings of a report that belong to the check that produced it. */
export function ownedFindings(report: Pick<DiagnosisReport, 'findings'>, check: AgentCheck | 'all'): readonly Finding[] {
  if (check === 'all' || check === 'nameResolution') return report.findings;
  return report.findings.filter((x) => !NAME_FINDING.test(x.id));
}

// ---- defensive readers for sections other capabilities add ----
type Loose = Readonly<Record<string, unknown>>;
const obj = (v: unknown): Loose | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Loose) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
const section = (report: DiagnosisReport, key: string): unknown => (report as unknown as Loose)[key];

/** Endpoints of the data path section: the gateway (the section itself), and the public endpoint and redirect node within it. */
function dataPathEndpoints(section: unknown): Array<[string, Loose]> {
  const s = obj(section);
  if (!s) return [];
  const out: Array<[string, Loose]> = [];
  if (obj(s.tcp)) out.push(['gateway', s]);
  for (const [key, value] of Object.entries(s)) {
    const v = obj(value);
    if (!v || !/^[a-zA-Z]{1,32}$/.test(key)) continue;
    if (obj(v.tcp)) out.push([key, v]);
    else if (obj(obj(v.path)?.tcp)) out.push([key, obj(v.path) as Loose]); // redirect: { path: DataPathResult }
  }
  return out;
}

/** Lists of {port, state} anywhere one level down (the management firewall section's port results). */
function portResults(section: unknown): Loose[] {
  const s = obj(section);
  const candidates: unknown[] = Array.isArray(section) ? [section] : s ? [s.ports, s.results, s.probes, ...Object.values(s)] : [];
  for (const c of candidates) {
    const items = list(c).map(obj).filter((x): x is Loose => x !== undefined && num(x.port) !== undefined && str(x.state) !== undefined);
    if (items.length > 0) return items;
  }
  return [];
}

const REVOCATION_RANK: Record<string, number> = { revoked: 3, unknown: 2, unchecked: 1, good: 0 };

function revocationStatus(section: Loose): string | undefined {
  const direct = str(section.status);
  if (direct && direct in REVOCATION_RANK) return direct;
  const chains = [section, obj(section.chain), obj(section.gateway), ...list(section.chains).map(obj)].filter((x): x is Loose => x !== undefined);
  const statuses = chains.flatMap((c) => list(c.certificates).map((cert) => str(obj(cert)?.status)).filter((x): x is string => x !== undefined && x in REVOCATION_RANK));
  if (statuses.length === 0) return undefined;
  // Worst status of the chain; a root (self-signed) is "unchecked" by nature, so only count it when nothing else is known.
  return statuses.reduce((a, b) => ((REVOCATION_RANK[b] ?? 0) > (REVOCATION_RANK[a] ?? 0) ? b : a));
}

function revocationEndpoints(section: Loose): Map<string, boolean> {
  const byHost = new Map<string, boolean>();
  const candidates = [section.endpoints, section.reachability, obj(section.endpoints)?.results];
  for (const c of candidates) {
    for (const item of list(c).map(obj)) {
      if (!item || typeof item.ok !== 'boolean') continue;
      let host = str(item.host);
      if (!host) {
        try { host = new URL(str(item.url) ?? '').hostname; } catch { host = undefined; }
      }
      if (!host) continue;
      byHost.set(host, (byHost.get(host) ?? true) && item.ok);
    }
  }
  return byHost;
}

export interface RenderOptions {
  /** Checks whose sections to render; name resolution metrics come with 'nameResolution'. */
  readonly checks: ReadonlySet<AgentCheck>;
  /** The instance label; absent for /probe, where Prometheus sets it by relabelling. */
  readonly instance?: string | undefined;
}

/** The samples a diagnosis report yields for the given checks (findings excluded: see findingSamples). */
export function reportToMetrics(report: DiagnosisReport, opts: RenderOptions): Sample[] {
  const base: Record<string, string> = opts.instance === undefined ? {} : { instance: opts.instance };
  const out: Sample[] = [];
  const add = (family: InstanceFamily, labels: Record<string, string>, value: number): void => {
    out.push({ family, labels: { ...base, ...labels }, value });
  };
  const startedAt = Date.parse(report.startedAt) / 1000;

  if (opts.checks.has('nameResolution')) {
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
    for (const c of report.dnsCoverage) add('dnsCoverageFailures', { resolver: c.server }, c.failures.length);
    add('managementPresent', {}, report.managementEndpoint.present ? 1 : 0);
  }

  if (opts.checks.has('dataPath')) {
    for (const [endpoint, probe] of dataPathEndpoints(section(report, 'dataPath'))) {
      const tcp = obj(probe.tcp);
      const port = num(tcp?.port) ?? num(probe.port);
      const state = str(tcp?.state);
      if (tcp && port !== undefined && state) {
        for (const s of PORT_STATES) add('portState', { endpoint, port: String(port), state: s }, s === state ? 1 : 0);
        const connect = num(tcp.connectSeconds);
        if (connect !== undefined) add('portConnectDuration', { endpoint, port: String(port) }, connect);
      }
      if (endpoint === 'gateway') {
        const phases: Array<[string, unknown]> = [['tcp', tcp?.connectSeconds], ['prelogin', obj(probe.prelogin)?.seconds],
          ['tls', obj(probe.tls)?.seconds], ['login', obj(probe.login)?.seconds]];
        for (const [phase, v] of phases) {
          const seconds = num(v);
          if (seconds !== undefined) add('phaseDuration', { phase }, seconds);
        }
      }
      const tls = obj(probe.tls);
      const info = tls && (str(tls.protocol) ? tls : obj(tls.info));
      if (info) {
        const protocol = str(info.protocol);
        if (protocol) add('tlsInfo', { endpoint, version: protocol }, 1);
        const leafTo = str(obj(list(info.chain)[0])?.validTo);
        const expiresIn = num(info.expiresInSeconds);
        const expiry = leafTo ? Date.parse(leafTo) / 1000 : expiresIn !== undefined ? startedAt + expiresIn : undefined;
        if (expiry !== undefined && Number.isFinite(expiry)) add('tlsExpiry', { endpoint }, Math.round(expiry));
        if (typeof info.trusted === 'boolean') add('tlsTrusted', { endpoint }, info.trusted && info.hostnameMatch !== false ? 1 : 0);
      }
    }
  }

  if (opts.checks.has('management')) {
    const ports = portResults(section(report, 'managementFirewall')).slice(0, MAX_PORT_SERIES);
    for (const p of ports) {
      const port = String(num(p.port));
      const state = str(p.state) ?? 'error';
      for (const s of PORT_STATES) add('portState', { endpoint: 'management', port, state: s }, s === state ? 1 : 0);
      const connect = num(p.connectSeconds) ?? num(p.seconds);
      if (connect !== undefined) add('portConnectDuration', { endpoint: 'management', port }, connect);
    }
  }

  if (opts.checks.has('revocation')) {
    const rev = obj(section(report, 'revocation'));
    if (rev) {
      const status = revocationStatus(rev);
      if (status) for (const s of REVOCATION_STATES) add('revocationStatus', { status: s }, s === status ? 1 : 0);
      for (const [host, up] of revocationEndpoints(rev)) add('revocationEndpointUp', { host }, up ? 1 : 0);
    }
  }
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
  readonly findings?: readonly Finding[];
  readonly samples: readonly Sample[];
}

export function storeOutcome(outcome: CheckOutcome, instance: string): StoredOutcome {
  const r = outcome.report;
  return {
    check: outcome.check, completedAt: outcome.completedAt, durationSeconds: outcome.durationSeconds,
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    ...(r ? { verdict: r.verdict, findings: r.findings } : {}),
    samples: r ? reportToMetrics(r, { checks: new Set([outcome.check]), instance }) : [],
  };
}

/** Success, duration, completion time and error of one check outcome. */
export function outcomeSamples(outcome: StoredOutcome, instance: string): Sample[] {
  const labels = { instance, check: outcome.check };
  const critical = outcome.findings?.some((x) => x.severity === 'critical') ?? true;
  return [
    { family: 'checkSuccess', labels, value: outcome.findings && !critical ? 1 : 0 },
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
    out.push(...(check !== 'nameResolution' && !nameRun && out.length === 0 ? outcome.findings : ownedFindings({ findings: outcome.findings }, check)));
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
