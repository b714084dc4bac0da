// The check table: every check miprobe makes, one row each, in the order of the
// path (name, gateway, login, redirect; management endpoint; coverage and
// revocation). A row says what it needs (the checks whose results it reads),
// what it waits for (so that our CPU work stays off other probes' clocks), when
// it can run and with what, how it runs (its probe), what its result means (its
// rules: findings and check lines), where the result goes in the report, and
// which agent schedule runs it. `diagnose`, `demo`, the agent, the metrics and
// the report schema read this table.
//
// A new check: its probe (src/probes), its rules and catalog entries
// (src/diagnosis), and one row here.
import {
  coverageFindings, coverageLines, cnamesOf, managementNameFindings, managementNameLines, nameFindings, nameLines,
} from '../diagnosis/dns-rules.js';
import {
  gatewayFindings, gatewayLines, loginFindings, loginLines, publicFindings, publicLines, redirectFindings, redirectLines,
  redirectRangeFindings, redirectRangeLines,
} from '../diagnosis/datapath-rules.js';
import { managementChecks, managementFindings } from '../diagnosis/management-rules.js';
import { httpsChecks, httpsFindings } from '../diagnosis/https-rules.js';
import { revocationChecks, revocationFindings, type RevocationContext } from '../diagnosis/revocation-rules.js';
import type { Finding } from '../diagnosis/finding.js';
import { managementHostFromChain } from '../diagnosis/target.js';
import { probeDataPath, type DataPathResult } from '../probes/datapath.js';
import { probeDnsCoverage } from '../probes/dns-coverage.js';
import { probeNameResolution, probeWithFailover } from '../probes/dns.js';
import { probeHttpsChain } from '../probes/https-chain.js';
import type { LoginInput } from '../probes/login.js';
import { probeManagementPorts, type ManagementPortsInput } from '../probes/management-ports.js';
import { probePorts, type PortsInput } from '../probes/port-scan.js';
import { probeRedirect, type RedirectInput } from '../probes/redirect.js';
import type { ChainInput } from '../probes/revocation.js';
import type { ResolverSpec } from '../probes/context.js';
import { PUBLIC_ENDPOINT_PORT, REDIRECT_PORTS, REVOCATION_ENDPOINTS } from '../requirements/platform.js';
import type { DataPathInput } from '../probes/datapath.js';
import type { CheckId, CheckRow, Outcome, PlanRow, PlanState, Reach } from './types.js';

/** Gives a row its erased form for the plan; each row's own types are checked here. */
function defineRow<K extends CheckId, In>(row: CheckRow<K, In>): PlanRow {
  const { reach: _reach, run: _run, findings: _findings, lines: _lines, ...head } = row;
  return {
    ...head,
    async execute(state, ctx) {
      const reach = row.reach(state);
      if ('off' in reach) return { outcome: { state: 'off', because: reach.off }, findings: [], lines: [] };
      if ('notReached' in reach) {
        return { outcome: { state: 'not-reached', because: reach.notReached, ...(reach.cause ? { cause: reach.cause } : {}) }, findings: [], lines: [] };
      }
      const result = await row.run(reach.run, ctx);
      const outcome = { state: 'ran', result } as Outcome<CheckId>;
      return { outcome, findings: row.findings(result, state).map((f) => ({ ...f, check: row.id })), lines: row.lines(result, state) };
    },
  };
}

/** The result of a check that ran, else undefined. */
export function resultOf<K extends CheckId>(state: Pick<PlanState, 'done'>, id: K): Extract<Outcome<K>, { state: 'ran' }>['result'] | undefined {
  const o = state.done[id] as Outcome<K> | undefined;
  return o?.state === 'ran' ? o.result : undefined;
}

/** The finding that stands for a check's failure: its first critical one, else its first one. */
export function causeFrom(state: Pick<PlanState, 'findings' | 'done'>, ...ids: CheckId[]): string | undefined {
  const own = state.findings.filter((f) => f.check !== undefined && (ids as string[]).includes(f.check));
  const cause = own.find((f) => f.severity === 'critical') ?? own[0];
  if (cause) return cause.id;
  for (const id of ids) {
    const o = state.done[id];
    if (o?.state === 'not-reached' && o.cause) return o.cause;
  }
  return undefined;
}

/**
 * Not reached, because a check it needs did not run (its reason carried along), or off like it:
 * `whenOff` says so in the row's own words (the reason is already on the line of the check it needs).
 */
function inherit<In>(state: PlanState, id: CheckId, what: string, whenOff?: string): Reach<In> {
  const o = state.done[id];
  if (o?.state === 'off') return { off: whenOff ?? o.because };
  if (o?.state === 'not-reached') return { notReached: o.because, cause: o.cause };
  return { notReached: what, cause: causeFrom(state, id) };
}

/** The address the application would use: the first answer, in resolver order (system/custom before Azure). */
function chosenAddress(state: PlanState): string | undefined {
  return resultOf(state, 'names')?.find((a) => a.result.ok && a.result.addresses.length > 0)?.result.addresses[0];
}

/** Five ports spread over the redirect range. */
const REDIRECT_SAMPLE: readonly number[] = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(REDIRECT_PORTS.min + f * (REDIRECT_PORTS.max - REDIRECT_PORTS.min)));

/** Resolvers that answered the instance query at all (an NXDOMAIN is an answer; silence is not). */
function answeringResolvers(state: PlanState): ResolverSpec[] {
  const silent = new Set(['DNS_TIMEOUT', 'DNS_NETWORK', 'GUARD_DENIED']);
  return (resultOf(state, 'names') ?? []).filter((a) => !silent.has(a.result.error?.code ?? '')).map((a) => a.spec);
}

/** The chains the data path saw whose TLS completed, each named by what presented it, and those not worth checking. */
function chainsSeen(state: PlanState): { chains: ChainInput[]; untrusted: string[] } {
  const chains: ChainInput[] = [];
  const untrusted: string[] = [];
  const pick = (p: DataPathResult | undefined, subject: string): void => {
    const tls = p?.tls;
    const info = tls ? (tls.ok ? tls : tls.info) : undefined;
    if (!info || info.chain.length === 0) return;
    // A chain that leads to no trusted root is not the CA's (a TLS-inspecting middlebox): its revocation says nothing.
    // A leaf sent without its intermediate (OpenSSL: unable to verify the first certificate) is the CA's, incomplete:
    // the check fetches the intermediate from the CA-issuers URL, as a client with AIA fetching would.
    if (tls && !tls.ok && tls.code === 'TLS_UNTRUSTED' && tls.info?.trustError !== 'UNABLE_TO_VERIFY_LEAF_SIGNATURE') untrusted.push(subject);
    else chains.push({ subject, pem: info.chain.map((c) => c.pem), ...(state.settings.ca ? { extraCertificatesPem: [state.settings.ca] } : {}) });
  };
  pick(resultOf(state, 'gateway'), 'gateway');
  pick(resultOf(state, 'redirect')?.path, 'redirect node');
  pick(resultOf(state, 'publicEndpoint')?.path, 'public endpoint');
  return { chains, untrusted };
}

/** What explains a revocation host that did not resolve: the names the custom resolver failed (DNS coverage, DNS-009). */
function revocationContext(state: PlanState): RevocationContext {
  return { unresolvedNames: (resultOf(state, 'coverage') ?? []).flatMap((c) => c.failures.map((f) => f.name)) };
}

/** Checks that only open sockets: what runs after them keeps its CPU work off their clocks. */
const SOCKET_PHASE: readonly CheckId[] = ['gateway', 'publicEndpoint', 'managementName', 'managementPorts'];
/**
 * The checks that cost CPU run one after another, each after the socket phase: DNS coverage (light), the
 * login (tedious), then the revocation checks (parsing CRLs and OCSP answers). Concurrently, one's work
 * would sit inside the timings the other reports (a loopback connect shown as 40 ms).
 */
const BEFORE_LOGIN: readonly CheckId[] = [...SOCKET_PHASE, 'coverage'];
const BEFORE_REVOCATION: readonly CheckId[] = [...BEFORE_LOGIN, 'login', 'redirect', 'redirectRange'];

export const CHECK_TABLE: readonly PlanRow[] = [
  defineRow<'names', string>({
    id: 'names', title: 'Name resolution', group: 'nameResolution', needs: [], after: [], section: 'dns',
    reach: (s) => ({ run: s.input.target.fqdn }),
    run: probeNameResolution,
    findings: (answers, s) => nameFindings(answers, s.input.target, s.input.subnet),
    lines: (answers, s) => nameLines(answers, s.input.target, s.input.subnet),
  }),
  defineRow<'managementName', { host: string; cnameTarget: string }>({
    id: 'managementName', title: 'Management endpoint name', group: 'nameResolution', needs: ['names'], after: [], section: 'managementEndpoint',
    reach: (s) => {
      const first = resultOf(s, 'names')?.find((a) => a.result.ok);
      if (!first) return { notReached: 'the instance name did not resolve, so no CNAME target was seen', cause: causeFrom(s, 'names') };
      if (s.input.target.kind !== 'vnet-local') return { off: `a ${s.input.target.kind} name has no management endpoint` };
      const derived = managementHostFromChain(cnamesOf(first.result));
      if (!derived) return { off: 'no ".vnet" label in the CNAME chain: the instance uses the architecture of the November 2022 feature wave (no management endpoint), or the name is not a VNet-local managed instance name' };
      return { run: derived };
    },
    run: async (derived, ctx) => ({ ...derived, result: await probeWithFailover(derived.host, ctx) }),
    findings: (m) => managementNameFindings(m),
    lines: (m) => managementNameLines(m),
  }),
  defineRow<'gateway', DataPathInput>({
    id: 'gateway', title: 'Gateway (TCP, PRELOGIN, TLS)', group: 'dataPath', needs: ['names'], after: [], section: 'dataPath',
    reach: (s) => {
      const address = chosenAddress(s);
      if (address === undefined) return { notReached: 'the instance name did not resolve to an address', cause: causeFrom(s, 'names') };
      return { run: { host: s.input.target.fqdn, address, port: s.input.target.port, strict: s.settings.strict, ca: s.settings.ca } };
    },
    run: probeDataPath,
    findings: (p) => gatewayFindings(p),
    lines: (p) => gatewayLines(p),
  }),
  defineRow<'publicEndpoint', string>({
    id: 'publicEndpoint', title: 'Public endpoint', group: 'dataPath', needs: [], after: ['names'], section: 'dataPath', quietWhenOff: true,
    reach: (s) => {
      const host = s.input.target.publicName;
      if (!s.settings.public) return { off: 'not asked for (--public)' };
      if (!host || s.input.target.kind !== 'vnet-local') return { off: `a ${s.input.target.kind} name has no public endpoint to probe` };
      return { run: host };
    },
    run: async (host, ctx) => {
      const resolved = await probeWithFailover(host, ctx);
      const address = resolved.addresses[0];
      if (!resolved.ok || address === undefined) {
        return { host, addresses: [], error: resolved.error ? `${resolved.error.code}: ${resolved.error.message}` : 'no address' };
      }
      return { host, addresses: resolved.addresses, path: await probeDataPath({ host, address, port: PUBLIC_ENDPOINT_PORT }, ctx) };
    },
    findings: (pub) => publicFindings(pub),
    lines: (pub) => publicLines(pub),
  }),
  defineRow<'managementPorts', ManagementPortsInput>({
    id: 'managementPorts', title: 'Management endpoint firewall', group: 'management', needs: ['managementName'], after: [], section: 'managementFirewall',
    reach: (s) => {
      const m = resultOf(s, 'managementName');
      if (!m) return inherit(s, 'managementName', 'the management endpoint name was not looked up', 'no management endpoint to check');
      const address = m.result.addresses[0];
      if (!m.result.ok || address === undefined) return { notReached: `the management endpoint ${m.host} did not resolve`, cause: causeFrom(s, 'managementName') };
      return { run: { address, host: m.host, ...(s.input.scanPorts ? { scanPorts: s.input.scanPorts } : {}) } };
    },
    run: probeManagementPorts,
    findings: (r) => managementFindings(r),
    lines: (r) => managementChecks(r),
  }),
  defineRow<'login', LoginInput>({
    id: 'login', title: 'Login', group: 'dataPath', needs: ['gateway'], after: BEFORE_LOGIN, section: 'dataPath',
    reach: (s) => {
      if (s.settings.login === 'none') return { off: 'not asked for (--login none)' };
      const path = resultOf(s, 'gateway');
      if (!path) return inherit(s, 'gateway', 'the gateway was not probed');
      if (!path.tcp.ok) return { notReached: `the gateway refused or dropped TCP (${path.tcp.code})`, cause: causeFrom(s, 'gateway') };
      const { settings: d } = s;
      return { run: { mode: d.login, host: path.host, address: path.address, port: path.port, strict: d.strict, ca: d.ca,
        ...(d.user !== undefined ? { user: d.user } : {}), ...(d.password !== undefined ? { password: d.password } : {}),
        ...(d.token !== undefined ? { token: d.token } : {}) } };
    },
    // tedious loads only when a login is asked for (the plan loads it before the first probe).
    run: async (input, ctx) => (await import('../probes/login.js')).probeLogin(input, ctx),
    findings: (l) => loginFindings(l),
    lines: (l) => loginLines(l),
  }),
  defineRow<'redirect', RedirectInput>({
    id: 'redirect', title: 'Redirect', group: 'dataPath', needs: ['login'], after: [], section: 'dataPath', quietWhenOff: true,
    reach: (s) => {
      const login = resultOf(s, 'login');
      if (!login) return inherit(s, 'login', 'no login was made');
      if (!login.routing) return { off: 'the gateway did not redirect the login' };
      return { run: { routing: login.routing, strict: s.settings.strict, ca: s.settings.ca } };
    },
    run: probeRedirect,
    findings: (r) => redirectFindings(r),
    lines: (r) => redirectLines(r),
  }),
  defineRow<'redirectRange', PortsInput>({
    id: 'redirectRange', title: 'Redirect port sample', group: 'dataPath', needs: ['redirect'], after: [], section: 'dataPath', quietWhenOff: true,
    reach: (s) => {
      const r = resultOf(s, 'redirect');
      if (!r) return inherit(s, 'redirect', 'no redirect was followed');
      const address = r.ok ? r.path?.address : undefined;
      if (address === undefined) return { notReached: `the node ${r.server}:${r.port} did not answer`, cause: causeFrom(s, 'redirect') };
      // The node answered on one port; a sample across the range shows whether a firewall lets only part of it through.
      return { run: { address, ports: REDIRECT_SAMPLE } };
    },
    run: probePorts,
    findings: (scan, s) => redirectRangeFindings(scan, resultOf(s, 'redirect')?.port),
    lines: (scan, s) => redirectRangeLines(scan, resultOf(s, 'redirect')?.port),
  }),
  defineRow<'coverage', { names: readonly string[]; resolvers: ResolverSpec[] }>({
    id: 'coverage', title: 'DNS coverage', group: 'nameResolution', needs: ['names'], after: SOCKET_PHASE, section: 'dnsCoverage',
    reach: (s) => {
      if (s.input.requiredNames.length === 0) return { off: 'no required names configured' };
      const custom = answeringResolvers(s).filter((r) => r.role !== 'azure');
      if (custom.length === 0) {
        return (resultOf(s, 'names') ?? []).some((a) => a.spec.role !== 'azure')
          ? { notReached: 'no custom resolver answered', cause: causeFrom(s, 'names') }
          : { off: 'no custom resolver to check' };
      }
      return { run: { names: s.input.requiredNames, resolvers: custom } };
    },
    run: (input, ctx) => probeDnsCoverage(input.names, { ...ctx, resolvers: input.resolvers }),
    findings: (c) => coverageFindings(c),
    lines: (c) => coverageLines(c),
  }),
  defineRow<'revocationEndpoints', readonly string[]>({
    id: 'revocationEndpoints', title: 'Revocation endpoints', group: 'revocation', needs: ['names'], after: BEFORE_REVOCATION, section: 'revocation',
    reach: (s) => (answeringResolvers(s).length === 0
      ? { notReached: 'no resolver answered, so the CRL and OCSP hosts could not be looked up', cause: causeFrom(s, 'names') }
      : { run: s.input.revocationUrls ?? REVOCATION_ENDPOINTS }),
    run: async (urls, ctx) => (await import('../probes/revocation.js')).probePlatformEndpoints(urls, ctx),
    findings: (endpoints, s) => revocationFindings({ chains: [], endpoints }, revocationContext(s)),
    lines: (endpoints, s) => revocationChecks({ chains: [], endpoints }, revocationContext(s)),
  }),
  defineRow<'chainRevocation', ChainInput[]>({
    // The chains the gateway (and, when they run with it, the redirect and the public endpoint) served. An
    // agent's revocation schedule runs the gateway's handshake for it: a revoked certificate is a critical.
    id: 'chainRevocation', title: 'Certificate revocation', group: 'revocation', needs: ['gateway'],
    after: [...BEFORE_REVOCATION, 'revocationEndpoints'], section: 'revocation',
    reach: (s) => {
      if (!resultOf(s, 'gateway')) return inherit(s, 'gateway', 'the gateway was not probed');
      const { chains, untrusted } = chainsSeen(s);
      if (chains.length === 0 && untrusted.length > 0) {
        return { notReached: `the ${untrusted.join(' and ')} chain leads to no trusted root: it is not the CA's chain`, cause: causeFrom(s, 'gateway', 'redirect', 'publicEndpoint') };
      }
      if (chains.length === 0) return { notReached: 'no TLS handshake completed, so no certificate chain was seen', cause: causeFrom(s, 'gateway') };
      return { run: chains };
    },
    run: async (chains, ctx) => {
      const { probeChainRevocation } = await import('../probes/revocation.js');
      return Promise.all(chains.map((c) => probeChainRevocation(c, ctx)));
    },
    findings: (chains, s) => revocationFindings({ chains, endpoints: [] }, revocationContext(s)),
    lines: (chains, s) => revocationChecks({ chains, endpoints: [] }, revocationContext(s)),
  }),
  defineRow<'httpsChains', readonly string[]>({
    id: 'httpsChains', title: 'HTTPS endpoints', group: 'revocation', needs: [], after: [...BEFORE_REVOCATION, 'revocationEndpoints', 'chainRevocation'],
    section: 'revocation', quietWhenOff: true,
    reach: (s) => (s.input.httpsUrls?.length ? { run: s.input.httpsUrls } : { off: 'no HTTPS endpoints configured' }),
    run: async (urls, ctx) => {
      const { probeChainRevocation } = await import('../probes/revocation.js');
      const results = await Promise.all(urls.map((url) => probeHttpsChain(url, ctx)));
      const chains = await Promise.all(results.flatMap((r) => (r.ok ? [probeChainRevocation({ subject: r.url, pem: r.chainPem }, ctx)] : [])));
      return { results, chains };
    },
    findings: (h) => [...httpsFindings(h.results), ...revocationFindings({ chains: h.chains, endpoints: [] })],
    lines: (h) => [...httpsChecks(h.results), ...revocationChecks({ chains: h.chains, endpoints: [] })],
  }),
];

/** The row of a check. */
export function rowOf(id: CheckId): PlanRow {
  const row = CHECK_TABLE.find((r) => r.id === id);
  if (!row) throw new Error(`no check "${id}" in the table`);
  return row;
}

export type { Finding };
