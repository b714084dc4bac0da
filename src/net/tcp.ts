// TCP connect and classify: the one classifier every port probe uses.
//   open        the handshake completed
//   closed      the peer answered with a reset (ECONNREFUSED)
//   filtered    nothing came back before the deadline (a silent drop)
//   unreachable the network said no (ICMP host/net unreachable, no route)
import { isIP, Socket } from 'node:net';
import { secondsSince, startDeadline, type NetOptions } from './deadline.js';
import type { AddressGuard } from './guard.js';

export type PortState = 'open' | 'closed' | 'filtered' | 'unreachable';

export type TcpErrorCode = 'TCP_REFUSED' | 'TCP_TIMEOUT' | 'TCP_UNREACHABLE' | 'TCP_ERROR' | 'GUARD_DENIED' | 'ABORTED';

export type TcpResult =
  | { ok: true; state: 'open'; host: string; port: number; connectSeconds: number }
  | { ok: false; state: Exclude<PortState, 'open'> | 'error'; host: string; port: number; code: TcpErrorCode;
      message: string; connectSeconds: number };

export interface TcpOptions extends NetOptions {
  readonly guard: AddressGuard;
  /** Keep the socket open and hand it over (for TDS); otherwise it is destroyed. */
  readonly keep?: boolean;
}

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);

export function classifyError(err: NodeJS.ErrnoException): { state: Exclude<PortState, 'open'> | 'error'; code: TcpErrorCode } {
  if (err.code === 'ECONNREFUSED') return { state: 'closed', code: 'TCP_REFUSED' };
  if (err.code !== undefined && UNREACHABLE.has(err.code)) return { state: 'unreachable', code: 'TCP_UNREACHABLE' };
  if (err.code === 'ETIMEDOUT') return { state: 'filtered', code: 'TCP_TIMEOUT' };
  return { state: 'error', code: 'TCP_ERROR' };
}

/** Connects to host:port (an IP address) and classifies the outcome; never throws. */
export async function tcpConnect(host: string, port: number, opts: TcpOptions): Promise<TcpResult & { socket?: Socket }> {
  const started = performance.now();
  // Addresses only: a name here would go to the system resolver, around the guard and our own DNS client.
  if (isIP(host) === 0) {
    return { ok: false, state: 'error', host, port, code: 'TCP_ERROR', connectSeconds: 0, message: `"${host}" is not an IP address` };
  }
  if (!opts.guard.allows(host)) {
    return { ok: false, state: 'error', host, port, code: 'GUARD_DENIED', connectSeconds: 0,
      message: `address ${host} is outside the allowed ranges (${opts.guard.describe().join(', ')})` };
  }
  const deadline = startDeadline(opts);
  const { signal } = deadline;
  return new Promise((resolve) => {
    const socket = new Socket();
    let settled = false;
    const finish = (result: TcpResult & { socket?: Socket }): void => {
      if (settled) return;
      settled = true;
      deadline.done();
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('connect');
      if (!result.ok || !opts.keep) socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => {
      const callerAborted = opts.signal?.aborted === true;
      finish({ ok: false, state: callerAborted ? 'error' : 'filtered', host, port,
        code: callerAborted ? 'ABORTED' : 'TCP_TIMEOUT', connectSeconds: secondsSince(started),
        message: callerAborted ? 'aborted' : `no answer to the TCP handshake within ${opts.timeoutMs} ms` });
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const { state, code } = classifyError(err);
      finish({ ok: false, state, host, port, code, connectSeconds: secondsSince(started),
        message: err.code ? `${err.code}: ${err.message}` : err.message });
    });
    socket.once('connect', () => {
      const result: TcpResult & { socket?: Socket } = { ok: true, state: 'open', host, port, connectSeconds: secondsSince(started) };
      if (opts.keep) result.socket = socket;
      finish(result);
    });
    socket.connect({ host, port });
  });
}
