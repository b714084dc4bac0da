// The redirect probe: after a login, the gateway's routing ENVCHANGE (type 20)
// named a node (host:port, normally 11000-11999). Resolve the node name, then
// probe TCP + PRELOGIN + TLS to it with the same data-path probe. The TLS server
// name (SNI) and the certificate check use the routed host name, as drivers do
// (tedious, SqlClient, mssql-jdbc): a node's certificate names the node, e.g.
// *.tr1234.westeurope1-a.worker.database.windows.net, not the instance.
//
// API:
//   probeRedirect: Probe<RedirectInput, RedirectResult>   never throws
import { isIP } from 'node:net';
import { remainingMs, secondsSince, startDeadline } from '../net/deadline.js';
import { REDIRECT_PORTS } from '../requirements/platform.js';
import type { Probe } from './context.js';
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

export interface RedirectInput {
  readonly routing: RoutingTarget;
  readonly strict?: boolean;
  readonly ca?: string | readonly string[] | undefined;
}

/** Resolves the routed node and probes TCP, PRELOGIN and TLS to it, checking its certificate against its own name. */
export const probeRedirect: Probe<RedirectInput, RedirectResult> = async (input, ctx) => {
  const started = performance.now();
  const { server, port } = input.routing;
  const portInRange = port >= REDIRECT_PORT_MIN && port <= REDIRECT_PORT_MAX;
  let resolved: RedirectResolve;
  if (isIP(server) !== 0) {
    resolved = { ok: true, addresses: [server], seconds: 0 };
  } else {
    const deadline = startDeadline({ timeoutMs: ctx.timeoutMs, signal: ctx.signal });
    const found = await ctx.resolveHost(server, { timeoutMs: ctx.timeoutMs, signal: deadline.signal });
    deadline.done();
    const seconds = secondsSince(started);
    resolved = found.addresses.length > 0
      ? { ok: true, addresses: [...found.addresses], seconds }
      : { ok: false, addresses: [], seconds, message: found.error ? `${found.error.code}: ${found.error.message}` : `${server} has no address` };
  }
  const address = resolved.addresses[0];
  if (!resolved.ok || address === undefined) {
    return { ok: false, server, port, portInRange, resolve: resolved, seconds: secondsSince(started) };
  }
  const path = await probeDataPath({ host: server, address, port, strict: input.strict === true, strictFallback: false, ca: input.ca },
    { ...ctx, timeoutMs: remainingMs(started, ctx.timeoutMs) });
  return { ok: path.ok, server, port, portInRange, resolve: resolved, path, seconds: secondsSince(started) };
};
