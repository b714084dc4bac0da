// What every probe receives besides its own input: the address guard, the
// deadline, cancellation, the resolvers, the one way probes look names up, and
// a log for what a user debugging a run wants to see.
// Probes do I/O and return typed results; they never decide what a result
// means (that is diagnosis).
//
// The deadline means one thing everywhere: `timeoutMs` bounds one probe call,
// all of its I/O included, whether that is one name, five ports at once, or a
// chain's CRL and OCSP fetches.
import { resolve } from '../net/dns/resolve.js';
import type { Endpoint } from '../net/endpoint.js';
import type { AddressGuard } from '../net/guard.js';
import type { HostResolver } from '../net/resolver.js';

export type ResolverRole = 'system' | 'custom' | 'azure';

export interface ResolverSpec {
  readonly endpoint: Endpoint;
  readonly role: ResolverRole;
}

/** Notes on what a run did as it goes (pino's call shape, so the agent passes its logger); never a secret. */
export interface ProbeLog {
  debug(fields: Readonly<Record<string, unknown>>, message: string): void;
}

export const NO_LOG: ProbeLog = { debug: () => undefined };

export interface ProbeContext {
  readonly guard: AddressGuard;
  /** The deadline of one probe call, in milliseconds: all of its I/O. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Resolvers in the order they are tried; the first answering one serves derived names. */
  readonly resolvers: readonly ResolverSpec[];
  /** UDP retransmissions per DNS server. */
  readonly dnsRetries: number;
  /**
   * Host names (a redirect node, a CRL host) to addresses through miprobe's own resolver, behind the guard.
   * There is no system fallback: getaddrinfo would go around the guard and the resolvers being diagnosed.
   */
  readonly resolveHost: HostResolver;
  readonly log: ProbeLog;
}

/** A probe: one kind of I/O, one input, one typed result, never throws. */
export type Probe<In, Out> = (input: In, ctx: ProbeContext) => Promise<Out>;

/** The resolvers tried in order (failover), as a HostResolver. */
export function hostResolverFor(resolvers: readonly ResolverSpec[], guard: AddressGuard, retries: number,
  opts: { readonly ipv6?: boolean } = {}): HostResolver {
  const servers = resolvers.map((r) => r.endpoint);
  const ipv6 = opts.ipv6 === false ? { ipv6: false } : {};
  return async (host, call) => {
    const r = await resolve(host, { servers, guard, retries, timeoutMs: call.timeoutMs, signal: call.signal, ...ipv6 });
    return r.ok ? { addresses: r.addresses } : { addresses: [], error: r.error ?? { code: 'DNS_ERROR', message: `${host} has no address` } };
  };
}

/** A context from its parts; the host resolver is made from the resolvers; no log unless one is given. */
export function probeContextOf(parts: Omit<ProbeContext, 'resolveHost' | 'log'> & { readonly log?: ProbeLog }): ProbeContext {
  return { log: NO_LOG, ...parts, resolveHost: hostResolverFor(parts.resolvers, parts.guard, parts.dnsRetries) };
}
