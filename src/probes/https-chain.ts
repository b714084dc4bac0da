// The certificate chain an HTTPS endpoint presents, so its revocation can be
// checked like the gateway's (probe.httpsUrls / --https-url: services the
// instance or its clients depend on, e.g. a Key Vault or storage endpoint).
import { isIP } from 'node:net';
import { deadlineSignal, remainingMs, secondsSince } from '../net/deadline.js';
import { tcpConnect } from '../net/tcp.js';
import { startTls, TlsError } from '../net/tds/tls.js';
import type { Probe } from './context.js';
import { probeWithFailover } from './dns.js';

export type HttpsChainResult =
  | { readonly ok: true; readonly url: string; readonly host: string; readonly address: string; readonly port: number;
      readonly seconds: number; readonly chainPem: readonly string[] }
  | { readonly ok: false; readonly url: string; readonly host: string; readonly address?: string; readonly port: number;
      readonly seconds: number; readonly code: string; readonly message: string };

/** Resolves the host, connects through the guard, completes TLS and keeps the chain (leaf first, PEM). Never throws. */
export const probeHttpsChain: Probe<string, HttpsChainResult> = async (url, ctx) => {
  const started = performance.now();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, url, host: '', port: 443, seconds: 0, code: 'BAD_URL', message: 'not a URL' };
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = parsed.port ? Number(parsed.port) : 443;
  const fail = (code: string, message: string, address?: string): HttpsChainResult =>
    ({ ok: false, url, host, ...(address ? { address } : {}), port, seconds: secondsSince(started), code, message });
  if (parsed.protocol !== 'https:') return fail('UNSUPPORTED_SCHEME', `only https: URLs carry a certificate chain (got ${parsed.protocol})`);

  // One deadline for the whole probe: DNS, TCP and TLS share it.
  const remaining = (): number => remainingMs(started, ctx.timeoutMs);
  let address: string | undefined = host;
  if (isIP(host) === 0) {
    const resolved = await probeWithFailover(host, ctx);
    address = resolved.addresses[0];
    if (!resolved.ok || address === undefined) {
      return fail(resolved.error?.code ?? 'DNS_NODATA', resolved.error?.message ?? `${host} has no address`);
    }
  }
  const tcp = await tcpConnect(address, port, { guard: ctx.guard, timeoutMs: remaining(), signal: ctx.signal, keep: true });
  if (!tcp.ok) return fail(tcp.code, tcp.message, address);
  if (!tcp.socket) return fail('TCP_ERROR', 'the connection was not kept', address);
  const signal = deadlineSignal({ timeoutMs: remaining(), signal: ctx.signal });
  try {
    const session = await startTls(tcp.socket, { servername: host, signal, callerSignal: ctx.signal });
    session.socket.destroy();
    return { ok: true, url, host, address, port, seconds: secondsSince(started), chainPem: session.info.chain.map((c) => c.pem) };
  } catch (err) {
    tcp.socket.destroy();
    return fail(err instanceof TlsError ? err.code : 'TLS_HANDSHAKE_FAILED', (err as Error).message, address);
  }
};
