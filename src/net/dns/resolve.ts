// Host name -> CNAME chain and addresses, asking a list of servers in order.
//
// API (stable):
//   resolve(name, opts: ResolveOptions): Promise<ResolveResult>   (types in ./types.ts)
//   validateHostName(name): string | undefined                    (the reason a name is refused)
//
// Behaviour:
//   - never throws; every failure is { ok: false, error: { code, message } };
//   - the name must be an RFC 1123 host name (labels 1-63 of letters, digits and inner
//     hyphens, 253 characters at most, one trailing dot allowed); an IP literal is refused
//     (DNS_BAD_NAME), because resolving one means the caller wanted a host name;
//   - A and AAAA (unless ipv6 === false) are asked concurrently. Each follows its CNAME
//     chain: the hops in the answer are walked from the asked name (order in the packet does
//     not matter); an answer that ends on a CNAME without addresses makes the target the next
//     question, unless the answer carries an SOA in its authority section (an RFC 2308
//     negative answer: the end of the chain has no such record, DNS_NODATA); a target already visited is DNS_CNAME_LOOP; more than maxHops hops is
//     DNS_CNAME_TOO_LONG. The chain holds the CNAME hops in order, then the A records, then
//     the AAAA records of the final name (names lower-case, no trailing dot);
//   - the A side decides: AAAA failures never turn an A success into a failure, and once A
//     has succeeded AAAA gets only a short grace period (as long as A took, at least 200 ms). A NOERROR answer without A but with
//     AAAA is a success; without either it is DNS_NODATA;
//   - servers are tried in order; the next is tried after a timeout, SERVFAIL, REFUSED,
//     NOTIMP, FORMERR, another rcode, a malformed answer, a network error or a guard denial.
//     NXDOMAIN, NODATA, CNAME loop / too long and an abort are final. `attempts` lists what
//     each server tried gave;
//   - the whole resolution keeps to opts.timeoutMs and stops when opts.signal aborts
//     (DNS_ABORTED). The time left is shared evenly over the servers not yet tried.
import { isIP } from 'node:net';
import { onAbort, secondsSince } from '../deadline.js';
import { formatEndpoint, type Endpoint } from '../endpoint.js';
import { normalizeName, queryServer } from './client.js';
import type { DnsError, DnsErrorCode, DnsHop, DnsServerAttempt, ResolveOptions, ResolveResult } from './types.js';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** undefined when `name` is a valid host name, otherwise the reason it is not. */
export function validateHostName(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'the name is empty';
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0) return 'the name is only a dot';
  if (bare.length > 253) return `the name has ${bare.length} characters (at most 253)`;
  if (isIP(bare) !== 0) return `${name} is an IP address, not a host name`;
  for (const label of bare.split('.')) {
    if (label.length === 0) return `"${name}" has an empty label`;
    if (label.length > 63) return `label "${label.slice(0, 20)}..." has ${label.length} characters (at most 63)`;
    if (!LABEL.test(label)) {
      return `label "${label}" is not a host name label (letters, digits and inner hyphens only)`;
    }
  }
  return undefined;
}

/** Errors after which the next server is asked. */
const NEXT_SERVER: ReadonlySet<DnsErrorCode> = new Set<DnsErrorCode>(['DNS_TIMEOUT', 'DNS_SERVFAIL', 'DNS_REFUSED',
  'DNS_NOTIMP', 'DNS_FORMERR', 'DNS_RCODE', 'DNS_MALFORMED', 'DNS_NETWORK', 'GUARD_DENIED']);

interface ChainOutcome {
  readonly ok: boolean;
  /** CNAME hops, then the address records of the final name. */
  readonly cnames: DnsHop[];
  readonly records: DnsHop[];
  readonly canonicalName: string;
  readonly queries: number;
  readonly tcp: boolean;
  readonly error?: DnsError;
}

interface ChainParams {
  readonly server: Endpoint;
  readonly opts: ResolveOptions;
  readonly attemptMs: number;
  readonly deadlineAt: number;
  readonly signal: AbortSignal;
  readonly maxHops: number;
}

/** Follows the chain of `name` for one address type against one server. */
async function followChain(name: string, type: 'A' | 'AAAA', p: ChainParams): Promise<ChainOutcome> {
  let current = normalizeName(name);
  const visited = new Set<string>([current]);
  const cnames: DnsHop[] = [];
  let queries = 0;
  let tcp = false;
  const failure = (code: DnsErrorCode, message: string): ChainOutcome =>
    ({ ok: false, cnames, records: [], canonicalName: current, queries, tcp, error: { code, message } });
  // Each question must advance the chain by at least one hop, so maxHops + 1 questions suffice.
  for (let round = 0; round <= p.maxHops; round += 1) {
    const left = p.deadlineAt - performance.now();
    if (p.signal.aborted || left <= 0) {
      return p.opts.signal?.aborted ? failure('DNS_ABORTED', 'aborted by the caller')
        : failure('DNS_TIMEOUT', `no answer for ${current} ${type} within the time left`);
    }
    const res = await queryServer(current, type, p.server, {
      guard: p.opts.guard, timeoutMs: left, signal: p.signal, retries: p.opts.retries ?? 1,
      attemptTimeoutMs: p.attemptMs,
    });
    queries += res.queries;
    tcp ||= res.transport === 'tcp';
    // Walk the hops of this answer (also on NXDOMAIN: a dangling chain is evidence).
    let moved = false;
    const byOwner = new Map<string, DnsHop>();
    for (const rr of res.answers) if (rr.type === 'CNAME' && !byOwner.has(rr.name)) byOwner.set(rr.name, rr);
    for (let hop = byOwner.get(current); hop !== undefined; hop = byOwner.get(current)) {
      if (cnames.length >= p.maxHops) {
        return failure('DNS_CNAME_TOO_LONG', `the CNAME chain of ${name} has more than ${p.maxHops} hops`);
      }
      cnames.push(hop);
      if (visited.has(hop.data)) {
        current = hop.data;
        return failure('DNS_CNAME_LOOP', `the CNAME chain of ${name} comes back to ${hop.data}`);
      }
      visited.add(hop.data);
      current = hop.data;
      moved = true;
    }
    if (!res.ok) {
      const err = res.error ?? { code: 'DNS_RCODE' as const, message: 'failed' };
      if (err.code === 'DNS_ABORTED' && p.opts.signal?.aborted !== true) {
        // Our own deadline (or the AAAA grace period) ended the query, not the caller.
        return failure('DNS_TIMEOUT', `no answer from ${p.server.host}:${p.server.port} for ${current} ${type} within the time given to this server`);
      }
      return failure(err.code, err.message);
    }
    const records = res.answers.filter((rr) => rr.type === type && rr.name === current);
    if (records.length > 0) return { ok: true, cnames, records, canonicalName: current, queries, tcp };
    if (!moved || res.negativeSoa) {
      return failure('DNS_NODATA', `${p.server.host}:${p.server.port} has no ${type} record for ${current}`
        + (cnames.length > 0 ? ` (end of the CNAME chain of ${name})` : ''));
    }
  }
  return failure('DNS_CNAME_TOO_LONG', `the CNAME chain of ${name} has more than ${p.maxHops} hops`);
}

interface ServerOutcome {
  readonly ok: boolean;
  readonly chain: DnsHop[];
  readonly addresses: string[];
  readonly canonicalName: string;
  readonly queries: number;
  readonly tcp: boolean;
  readonly error?: DnsError;
}

async function resolveWith(name: string, server: Endpoint, opts: ResolveOptions, budgetMs: number,
  outer: AbortSignal): Promise<ServerOutcome> {
  const retries = Math.max(0, Math.floor(opts.retries ?? 1));
  const deadlineAt = performance.now() + budgetMs;
  const base = { server, opts, deadlineAt, maxHops: Math.max(0, Math.floor(opts.maxHops ?? 16)),
    attemptMs: opts.attemptTimeoutMs ?? budgetMs / (retries + 1) };
  const v6Controller = new AbortController();
  const stopWaiting = onAbort(outer, () => v6Controller.abort(outer.reason));
  try {
    const started = performance.now();
    const aPromise = followChain(name, 'A', { ...base, signal: outer });
    const v6Promise = opts.ipv6 === false ? undefined : followChain(name, 'AAAA', { ...base, signal: v6Controller.signal });
    const a = await aPromise;
    let v6: ChainOutcome | undefined;
    if (v6Promise) {
      if (a.ok) {
        // A is enough: AAAA gets as long again as A took (at least 200 ms), then is dropped.
        const grace = Math.max(200, performance.now() - started);
        const timer = setTimeout(() => v6Controller.abort(new Error('grace')), grace);
        v6 = await v6Promise;
        clearTimeout(timer);
      } else {
        v6 = await v6Promise;
      }
    }
    const queries = a.queries + (v6?.queries ?? 0);
    const tcp = a.tcp || v6?.tcp === true;
    if (a.ok) {
      const extra = v6?.ok && v6.canonicalName === a.canonicalName ? v6.records : [];
      const records = [...a.records, ...extra];
      return { ok: true, chain: [...a.cnames, ...records], addresses: records.map((r) => r.data),
        canonicalName: a.canonicalName, queries, tcp };
    }
    if (a.error?.code === 'DNS_NODATA' && v6?.ok) {
      return { ok: true, chain: [...v6.cnames, ...v6.records], addresses: v6.records.map((r) => r.data),
        canonicalName: v6.canonicalName, queries, tcp };
    }
    return { ok: false, chain: [...a.cnames], addresses: [], canonicalName: a.canonicalName, queries, tcp,
      ...(a.error ? { error: a.error } : {}) };
  } finally {
    stopWaiting();
    v6Controller.abort();
  }
}

/** Resolves `name` to its CNAME chain and addresses. Never throws. */
export async function resolve(name: string, opts: ResolveOptions): Promise<ResolveResult> {
  const started = performance.now();
  const attempts: DnsServerAttempt[] = [];
  let queries = 0;
  let tcp = false;
  let lastServer = opts.servers[0] ? formatEndpoint(opts.servers[0]) : '';
  const result = (fields: { ok: boolean; chain?: DnsHop[]; addresses?: string[]; canonicalName?: string; error?: DnsError }): ResolveResult => ({
    ok: fields.ok, name, server: lastServer, chain: fields.chain ?? [], addresses: fields.addresses ?? [],
    canonicalName: fields.canonicalName ?? normalizeNameSafe(name), transport: tcp ? 'tcp' : 'udp', queries,
    seconds: secondsSince(started), ...(fields.error ? { error: fields.error } : {}), attempts,
  });
  try {
    const bad = validateHostName(name);
    if (bad !== undefined) return result({ ok: false, error: { code: 'DNS_BAD_NAME', message: bad } });
    if (opts.servers.length === 0) {
      return result({ ok: false, error: { code: 'DNS_NO_SERVERS', message: 'no DNS server to ask' } });
    }
    if (opts.signal?.aborted) return result({ ok: false, error: { code: 'DNS_ABORTED', message: 'aborted by the caller' } });
    const controller = new AbortController();
    const timeoutMs = Math.max(1, opts.timeoutMs);
    const deadlineAt = started + timeoutMs;
    const timer = setTimeout(() => controller.abort(new Error('deadline')), timeoutMs);
    const caller = opts.signal;
    const stopWaiting = caller ? onAbort(caller, () => controller.abort(caller.reason)) : () => undefined;
    try {
      let last: ServerOutcome | undefined;
      for (let i = 0; i < opts.servers.length; i += 1) {
        const server = opts.servers[i] as Endpoint;
        const serverStarted = performance.now();
        lastServer = formatEndpoint(server);
        if (!opts.guard.allows(server.host)) {
          const error: DnsError = { code: 'GUARD_DENIED',
            message: `DNS server ${server.host} is outside the allowed ranges (${opts.guard.describe().join(', ')})` };
          attempts.push({ server: lastServer, outcome: error.code, message: error.message, seconds: 0 });
          last = { ok: false, chain: [], addresses: [], canonicalName: normalizeName(name), queries: 0, tcp: false, error };
          continue;
        }
        const left = deadlineAt - performance.now();
        if (left <= 0 || controller.signal.aborted) break;
        const remainingServers = opts.servers.slice(i).filter((s) => opts.guard.allows(s.host)).length;
        const out = await resolveWith(name, server, opts, left / Math.max(1, remainingServers), controller.signal);
        queries += out.queries;
        tcp ||= out.tcp;
        attempts.push({ server: lastServer, outcome: out.ok ? 'OK' : out.error?.code ?? 'DNS_RCODE',
          ...(out.error ? { message: out.error.message } : {}), seconds: secondsSince(serverStarted) });
        last = out;
        if (out.ok || !out.error || !NEXT_SERVER.has(out.error.code)) break;
      }
      if (opts.signal?.aborted) {
        return result({ ok: false, chain: last?.chain ?? [], error: { code: 'DNS_ABORTED', message: 'aborted by the caller' } });
      }
      if (!last) {
        return result({ ok: false, error: { code: 'DNS_TIMEOUT', message: `no answer within ${timeoutMs} ms` } });
      }
      if (last.ok) {
        return result({ ok: true, chain: last.chain, addresses: last.addresses, canonicalName: last.canonicalName });
      }
      let error = last.error ?? { code: 'DNS_RCODE' as const, message: 'failed' };
      if (attempts.length > 1) {
        error = { code: error.code, message: `${error.message} (servers tried: ${attempts.map((a) => `${a.server} ${a.outcome}`).join(', ')})` };
      }
      return result({ ok: false, chain: last.chain, canonicalName: last.canonicalName, error });
    } finally {
      clearTimeout(timer);
      stopWaiting();
    }
  } catch (err) {
    // Defensive: nothing above should throw, but resolve() must not.
    return result({ ok: false, error: { code: 'DNS_NETWORK', message: `internal error: ${err instanceof Error ? err.message : String(err)}` } });
  }
}

function normalizeNameSafe(name: string): string {
  return typeof name === 'string' ? normalizeName(name) : '';
}
