// The path from this agent to an instance, hop by hop, as the status page
// draws it: resolvers, the address they give, the gateway, the redirect node,
// the management endpoint, revocation. Each check draws its own hops from its
// report's check lines (by the check of the table each line belongs to) and
// findings (pure; the report's sections are read through the lines, which
// every renderer shares), so a hop's state always agrees with the lines and
// findings shown with it.
import { ownedLines } from '../checks/by-group.js';
import type { CheckId } from '../checks/types.js';
import type { AgentCheck } from '../config/schema.js';
import type { CheckLine, CheckStatus as LineStatus } from '../diagnosis/check.js';
import type { Finding } from '../diagnosis/finding.js';
import type { DiagnosisReport } from '../diagnosis/report.js';
import type { CheckStatus } from './check-state.js';

export type HopKind = 'resolver' | 'address' | 'gateway' | 'node' | 'public' | 'management' | 'revocation';
export type HopState = 'ok' | 'warn' | 'fail' | 'skip';

export interface Hop {
  readonly kind: HopKind;
  /** What the hop is, e.g. "10.0.0.2:53 (custom)" or "10.0.0.4:1433". */
  readonly label: string;
  readonly state: HopState;
  /** What was seen there, a line each (bounded). */
  readonly lines: readonly string[];
  /** Ids of the findings about this hop. */
  readonly findings: readonly string[];
}

/** The hops each check draws, in path order. */
export const HOPS_OF_CHECK: Readonly<Record<AgentCheck, readonly HopKind[]>> = {
  nameResolution: ['resolver', 'address'],
  dataPath: ['gateway', 'node', 'public'],
  management: ['management'],
  revocation: ['revocation'],
};

export const HOP_TITLES: Readonly<Record<HopKind, string>> = {
  resolver: 'Resolver', address: 'Address', gateway: 'Gateway', node: 'Node', public: 'Public endpoint',
  management: 'Management endpoint', revocation: 'Revocation',
};

/** The hop each check of the table draws its lines on: a new check must say where it goes. */
const HOP_OF_CHECK: Readonly<Record<CheckId, HopKind>> = {
  names: 'resolver', coverage: 'resolver', managementName: 'management', managementPorts: 'management',
  gateway: 'gateway', login: 'gateway', redirect: 'node', redirectRange: 'node', publicEndpoint: 'public',
  revocationEndpoints: 'revocation', chainRevocation: 'revocation', httpsChains: 'revocation',
};

/** The hop a finding is about, by its id (first match wins). */
const FINDING_HOPS: ReadonlyArray<readonly [RegExp, HopKind]> = [
  [/^DNS-(003|004|005|012|015)$/, 'address'],
  [/^DNS-(006|007|008)$/, 'management'],
  [/^(DNS|NAME)-/, 'resolver'],
  [/^(TCP|TDS|TLS|LOGIN)-/, 'gateway'],
  [/^REDIRECT-/, 'node'],
  [/^PUBLIC-/, 'public'],
  [/^MGMT-/, 'management'],
  [/^REV-/, 'revocation'],
];

const MAX_LINES = 6;
const MAX_LINE_CHARS = 200;
const RANK: Readonly<Record<HopState, number>> = { ok: 0, skip: 1, warn: 2, fail: 3 };
const LINE_STATE: Readonly<Record<LineStatus, HopState>> = { pass: 'ok', info: 'ok', warn: 'warn', fail: 'fail', skip: 'skip' };

const worst = (states: readonly HopState[], start: HopState = 'ok'): HopState =>
  states.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), start);

function findingState(findings: readonly Finding[]): HopState {
  return worst(findings.map((f) => (f.severity === 'critical' ? 'fail' : f.severity === 'warning' ? 'warn' : 'ok')));
}

function hopOfLine(line: CheckLine): HopKind | undefined {
  return line.check !== undefined && line.check in HOP_OF_CHECK ? HOP_OF_CHECK[line.check as CheckId] : undefined;
}

export function hopOfFinding(id: string): HopKind | undefined {
  return FINDING_HOPS.find(([re]) => re.test(id))?.[1];
}

function clip(text: string): string {
  return text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS - 1)}…` : text;
}

const URGENCY: Readonly<Record<LineStatus, number>> = { fail: 0, warn: 1, pass: 2, info: 2, skip: 2 };

/** Failures and warnings first, the rest in the order checked, bounded; what is left over is counted. */
function describe(lines: readonly CheckLine[]): string[] {
  const sorted = [...lines].sort((a, b) => URGENCY[a.status] - URGENCY[b.status]);
  const shown = sorted.slice(0, MAX_LINES).map((l) => clip(`${l.name}: ${l.detail}`));
  const rest = sorted.length - shown.length;
  if (rest > 0) shown.push(`${rest} more line${rest > 1 ? 's' : ''}, ${sorted.slice(MAX_LINES).every((l) => l.status === 'pass' || l.status === 'info') ? 'all passing' : 'see the findings'}`);
  return shown;
}

/** The worst of what was checked; "not checked" only when nothing was (a skipped login does not hide a working TCP and TLS). */
function linesState(lines: readonly CheckLine[], findings: readonly Finding[]): HopState {
  const checked = lines.filter((l) => l.status !== 'skip');
  return worst(checked.map((l) => LINE_STATE[l.status]), lines.length > 0 && checked.length === 0 ? 'skip' : findingState(findings));
}

function hop(kind: HopKind, label: string, lines: readonly CheckLine[], findings: readonly Finding[], described?: readonly string[]): Hop {
  return {
    kind, label: clip(label),
    state: worst([findingState(findings)], linesState(lines, findings)),
    lines: described ?? describe(lines),
    findings: [...new Set(findings.map((f) => f.id))],
  };
}


/** The management port lines in one: "9000 closed · 9003 filtered ...". */
function portSummary(lines: readonly CheckLine[]): CheckLine[] {
  const ports = lines.filter((l) => /^Management port \d+$/.test(l.name));
  if (ports.length < 2) return [...lines];
  const states = ports.map((l) => `${l.name.slice('Management port '.length)} ${/\b(open|closed|filtered|unreachable|error)\b/.exec(l.detail)?.[1] ?? l.status}`);
  const status = ports.reduce<LineStatus>((a, l) => (RANK[LINE_STATE[l.status]] > RANK[LINE_STATE[a]] ? l.status : a), 'pass');
  return [...lines.filter((l) => !ports.includes(l)), { name: 'Management ports', status, detail: states.join(' · ') }];
}

/** The revocation endpoint lines in one: how many answer, and which do not. */
function endpointSummary(lines: readonly CheckLine[]): CheckLine[] {
  const endpoints = lines.filter((l) => l.name.startsWith('Revocation endpoint '));
  if (endpoints.length < 2) return [...lines];
  const down = endpoints.filter((l) => l.status !== 'pass' && l.status !== 'info');
  const hosts = down.map((l) => { try { return new URL(l.name.slice('Revocation endpoint '.length)).hostname; } catch { return l.name; } });
  const status = down.some((l) => l.status === 'fail') ? 'fail' : down.length > 0 ? 'warn' : 'pass';
  return [{ name: 'Revocation endpoints', status, detail: `${endpoints.length - down.length} of ${endpoints.length} answer${hosts.length ? `; not: ${hosts.join(', ')}` : ''}` },
    ...lines.filter((l) => !endpoints.includes(l))];
}

function resolverHops(report: DiagnosisReport, lines: readonly CheckLine[], findings: readonly Finding[]): Hop[] {
  return report.dns.map((r) => {
    // The hop's label names the resolver: its lines say what it answered (and whether it covers the required names).
    const own = lines.filter((l) => l.name === `DNS ${r.server} (${r.role})` || l.name === `DNS coverage ${r.server}`)
      .map((l) => ({ ...l, name: l.name.startsWith('DNS coverage') ? 'required names' : 'answer' }));
    // A finding names the resolver it is about in its evidence; one that names none is about all of them.
    const about = findings.filter((f) => f.evidence.includes(r.server) || !report.dns.some((d) => f.evidence.includes(d.server)));
    return hop('resolver', `${r.server} (${r.role})`, own, about);
  });
}

function addressHop(report: DiagnosisReport, findings: readonly Finding[]): Hop {
  const answered = report.dns.find((r) => r.ok && r.addresses.length > 0);
  if (!answered) {
    return { kind: 'address', label: 'no address', state: 'fail', lines: ['no resolver gave an address for the instance name'], findings: [...new Set(findings.map((f) => f.id))] };
  }
  const line: CheckLine = { name: 'Address', status: 'pass', detail: `${answered.addresses.join(', ')} from ${answered.server} (${answered.role})` };
  return hop('address', answered.addresses[0] ?? '', [line], findings, [clip(line.detail), ...findings.map((f) => clip(`${f.id}: ${f.title}`))]);
}

function nodeHop(report: DiagnosisReport, lines: readonly CheckLine[], gatewayLines: readonly CheckLine[], findings: readonly Finding[]): Hop {
  const redirect = report.dataPath?.redirect;
  if (lines.length > 0 || redirect) {
    const server = redirect?.server;
    const port = redirect?.port;
    return hop('node', server ? `${server}${port !== undefined ? `:${port}` : ''}` : 'redirect node', lines, findings);
  }
  const login = gatewayLines.find((l) => l.check === 'login');
  const why = !login ? 'not checked: the gateway names the node only after a login (set probe.login to dummy, sql or token)'
    : login.status === 'skip' ? `not checked this run: the login was skipped (${login.detail})`
      : login.status === 'fail' ? 'not reached: the login failed' : 'the gateway proxied the session (no redirect to a node)';
  return { kind: 'node', label: 'no redirect seen', state: login && login.status !== 'skip' && login.status !== 'fail' ? 'ok' : findings.length ? findingState(findings) : 'skip',
    lines: [clip(why)], findings: [...new Set(findings.map((f) => f.id))] };
}

/** The hops a check's report draws (only the kinds that check owns). */
export function hopsOfReport(check: AgentCheck, report: DiagnosisReport, findings: readonly Finding[]): Hop[] {
  const kinds = HOPS_OF_CHECK[check];
  const linesOf = (kind: HopKind): CheckLine[] => report.checks.filter((l) => hopOfLine(l) === kind);
  const findingsOf = (kind: HopKind): Finding[] => findings.filter((f) => hopOfFinding(f.id) === kind);
  const out: Hop[] = [];
  for (const kind of kinds) {
    if (kind === 'resolver') out.push(...resolverHops(report, linesOf('resolver'), findingsOf('resolver')));
    else if (kind === 'address') out.push(addressHop(report, findingsOf('address')));
    else if (kind === 'gateway') {
      const d = report.dataPath;
      const address = d?.address;
      const port = d?.port ?? report.target.port;
      out.push(hop('gateway', address ? `${address}:${port}` : `port ${port}`, linesOf('gateway'), findingsOf('gateway')));
    } else if (kind === 'node') out.push(nodeHop(report, linesOf('node'), linesOf('gateway'), findingsOf('node')));
    else if (kind === 'public') {
      const lines = linesOf('public');
      if (lines.length > 0 || findingsOf('public').length > 0) out.push(hop('public', report.target.publicName ?? 'public endpoint', lines, findingsOf('public')));
    } else if (kind === 'management') {
      const m = report.managementEndpoint;
      const label = m.present ? `${m.host}${m.addresses[0] ? ` (${m.addresses[0]})` : ''}` : 'none';
      out.push(hop('management', label, portSummary(linesOf('management')), findingsOf('management')));
    } else {
      out.push(hop('revocation', 'CRL and OCSP', endpointSummary(linesOf('revocation')), findingsOf('revocation')));
    }
  }
  return out;
}

/** The hops of a run: drawn from its report, or one hop saying why the check did not run or complete. */
export function hopsOfRun(check: AgentCheck, status: CheckStatus, report: DiagnosisReport | undefined): Hop[] {
  const first = HOPS_OF_CHECK[check][0] as HopKind;
  if (status.state === 'error' || !report) {
    return [{ kind: first, label: '', state: 'warn', lines: [status.reason ?? 'did not complete'], findings: [] }];
  }
  if (status.state === 'not-reached') {
    // A part not reached (the chain, with the rest checked): the hops as the report draws them, their own
    // lines saying what was not reached, and no hop shown as ok.
    if (ownedLines(report.checks, check).some((l) => l.skipped === undefined)) {
      return hopsOfReport(check, report, status.findings).map((h) => (h.state === 'ok' ? { ...h, state: 'skip' } : h));
    }
    return [{ kind: first, label: '', state: 'skip', lines: [status.reason ?? 'not reached'], findings: [...new Set(status.findings.map((f) => f.id))] }];
  }
  return hopsOfReport(check, report, status.findings);
}
