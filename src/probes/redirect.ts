// The redirect probe: after a login, the gateway's routing ENVCHANGE (type 20)
// named a node (host:port, normally 11000-11999). Resolve the node name, then
// probe TCP + PRELOGIN + TLS to it with the same data-path probe. The TLS server
// name (SNI) and the certificate check use the routed host name, as drivers do
// (tedious, SqlClient, mssql-jdbc): a node's certificate names the node, e.g.
// *.tr1234.westeurope1-a.worker.database.windows.net, not the instance.
//
// API:
//   probeRedirect(opts: RedirectOptions) -> Promise<RedirectResult>   never throws
//   dnsHostResolver(base: DnsBase) -> (name, signal) => Promise<string[]>
import { isIP } from 'node:net';
import { deadlineSignal, remainingMs, secondsSince } from '../net/deadline.js';
import { resolve as dnsResolve } from '../net/dns/resolve.js';
import type { ResolveOptions } from '../net/dns/types.js';
import type { AddressGuard } from '../net/guard.js';
import { REDIRECT_PORTS } from '../requirements/platform.js';
import { probeDataPath, type DataPathResult } from './datapath.js';
import type { RoutingTarget } from './login.js';

export const REDIRECT_PORT_MIN = REDIRECT_PORTS.min;
export const REDIRECT_PORT_MAX = REDIRECT_PORTS.max;

export interface RedirectResolve {
  readonly ok: boolean;
  readonly addresses: readonly string[];
  readonly seconds: number;
  readonly message?: string;
}

export interface RedirectResult {
  readonly ok: boolean;
  readonly server: string;
  readonly port: number;
  /** The port is in the documented redirect range 11000-11999. */
  readonly portInRange: boolean;
  readonly resolve: RedirectResolve;
  /** TCP/PRELOGIN/TLS to the first resolved address; absent when resolution failed. */
  readonly path?: DataPathResult;
  readonly seconds: number;
}

export interface RedirectOptions {
  readonly routing: RoutingTarget;
  readonly resolveHost?: (name: string, signal: AbortSignal) => Promise<readonly string[]>;
  readonly strict?: boolean;
  readonly ca?: string | readonly string[];
  readonly guard: AddressGuard;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export type DnsBase = Omit<ResolveOptions, 'timeoutMs' | 'signal'> & { readonly timeoutMs?: number };

/** A resolveHost function on miprobe's DNS client (guarded, with its own servers). */
export function dnsHostResolver(base: DnsBase): (name: string, signal: AbortSignal) => Promise<string[]> {
  return async (name, signal) => {
    const r = await dnsResolve(name, { ...base, timeoutMs: base.timeoutMs ?? 3000, signal });
    if (!r.ok) throw new Error(`${r.error?.code ?? 'DNS_ERROR'}: ${r.error?.message ?? `cannot resolve ${name}`}`);
    return [...r.addresses];
  };
}

export async function probeRedirect(opts: RedirectOptions): Promise<RedirectResult> {
  const started = performance.now();
  const { server, port } = opts.routing;
  const portInRange = port >= REDIRECT_PORT_MIN && port <= REDIRECT_PORT_MAX;
  const signal = deadlineSignal(opts);
  let resolved: RedirectResolve;
  const rStart = performance.now();
  if (isIP(server) !== 0) {
    resolved = { ok: true, addresses: [server], seconds: 0 };
  } else if (!opts.resolveHost) {
    resolved = { ok: false, addresses: [], seconds: 0, message: 'no resolver configured for the node name' };
  } else {
    try {
      const addresses = await opts.resolveHost(server, signal);
      resolved = addresses.length > 0
        ? { ok: true, addresses: [...addresses], seconds: secondsSince(rStart) }
        : { ok: false, addresses: [], seconds: secondsSince(rStart), message: `${server} has no address` };
    } catch (err) {
      resolved = { ok: false, addresses: [], seconds: secondsSince(rStart), message: err instanceof Error ? err.message : String(err) };
    }
  }
  const address = resolved.addresses[0];
  if (!resolved.ok || address === undefined) {
    return { ok: false, server, port, portInRange, resolve: resolved, seconds: secondsSince(started) };
  }
  const remaining = remainingMs(started, opts.timeoutMs);
  const path = await probeDataPath({
    host: server, address, port, strict: opts.strict === true, guard: opts.guard, timeoutMs: remaining, strictFallback: false,
    ...(opts.ca !== undefined ? { ca: opts.ca } : {}), ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { ok: path.ok, server, port, portInRange, resolve: resolved, path, seconds: secondsSince(started) };
}
