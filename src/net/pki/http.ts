// Bounded HTTP GET/POST for CRLs, OCSP and CA-issuer certificates, in three
// timed phases: DNS (an injected resolver), TCP (the shared classifier, after
// the address guard has seen the IP) and HTTP (undici on that very socket,
// body streamed and cut at a byte cap). Redirects are followed only to the
// same origin; anything else is reported, never followed.
import { isIP, type Socket } from 'node:net';
import { Client } from './undici-client.js';
import type { ResolveOptions, ResolveResult } from '../dns/types.js';
import { remainingMs, secondsSince, startDeadline } from '../deadline.js';
import type { AddressGuard } from '../guard.js';
import { tcpConnect, type TcpErrorCode } from '../tcp.js';

export interface HostResolution {
  readonly addresses: readonly string[];
  readonly error?: { readonly code: string; readonly message: string };
}

/** Resolves a host name to addresses; never throws. */
export type HostResolver = (host: string, opts: { readonly timeoutMs: number; readonly signal: AbortSignal }) => Promise<HostResolution>;

/** Adapts miprobe's own DNS client (src/net/dns/resolve.ts) to a HostResolver. */
export function fromDnsResolve(
  resolveFn: (name: string, opts: ResolveOptions) => Promise<ResolveResult>,
  base: Omit<ResolveOptions, 'timeoutMs' | 'signal'>,
): HostResolver {
  return async (host, opts) => {
    const r = await resolveFn(host, { ...base, timeoutMs: opts.timeoutMs, signal: opts.signal });
    return r.ok ? { addresses: r.addresses } : { addresses: [], error: r.error ?? { code: 'DNS_ERROR', message: 'no address' } };
  };
}

export type FetchErrorCode =
  | 'UNSUPPORTED_SCHEME' | 'BAD_URL' | 'DNS_FAILED' | 'GUARD_DENIED' | TcpErrorCode
  | 'HTTP_TIMEOUT' | 'HTTP_STATUS' | 'HTTP_TOO_LARGE' | 'HTTP_REDIRECT' | 'HTTP_REDIRECT_OFF_HOST' | 'HTTP_ERROR';

export interface FetchPhases {
  readonly dns?: { readonly ok: boolean; readonly seconds: number; readonly addresses: readonly string[]; readonly error?: string };
  readonly tcp?: { readonly ok: boolean; readonly seconds: number; readonly address: string; readonly port: number; readonly state: string };
  readonly http?: { readonly ok: boolean; readonly seconds: number; readonly status?: number; readonly bytes: number };
}

export type FetchResult =
  | { ok: true; url: string; status: number; contentType: string; body: Buffer; seconds: number; phases: FetchPhases }
  | { ok: false; url: string; code: FetchErrorCode; message: string; status?: number; location?: string; seconds: number;
      phases: FetchPhases };

export interface FetchOptions {
  readonly guard: AddressGuard;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly resolve?: HostResolver;
  /** Largest body accepted; reading stops there. */
  readonly maxBytes: number;
  readonly method?: 'GET' | 'POST';
  readonly body?: Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  /** Same-origin redirects followed. Default 2. */
  readonly maxRedirects?: number;
  /** Accept any status (reachability probes); default false: non-2xx is an error. */
  readonly anyStatus?: boolean;
}

const USER_AGENT = 'miprobe-revocation/0.1';

function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** Fetches one URL within the deadline and size cap; never throws. */
export async function boundedFetch(urlText: string, opts: FetchOptions): Promise<FetchResult> {
  const started = performance.now();
  const deadline = startDeadline(opts);
  try {
    let current = urlText;
    for (let hop = 0; ; hop++) {
      const r = await fetchOnce(current, opts, deadline.signal, started);
      if (r.ok || r.code !== 'HTTP_REDIRECT' || !r.location) return { ...r, url: urlText };
      let next: URL;
      try {
        next = new URL(r.location, current);
      } catch {
        return { ...r, url: urlText, message: `redirect to an invalid location ${JSON.stringify(r.location.slice(0, 200))}` };
      }
      if (next.origin !== new URL(current).origin) {
        return { ...r, url: urlText, code: 'HTTP_REDIRECT_OFF_HOST',
          message: `HTTP ${r.status ?? 3} redirect to another host (${next.origin}); not followed` };
      }
      if (hop >= (opts.maxRedirects ?? 2)) return { ...r, url: urlText, message: `more than ${opts.maxRedirects ?? 2} redirects` };
      current = next.href;
    }
  } finally {
    deadline.done();
  }
}

async function fetchOnce(urlText: string, opts: FetchOptions, signal: AbortSignal, started: number): Promise<FetchResult> {
  const phases: { dns?: FetchPhases['dns']; tcp?: FetchPhases['tcp']; http?: FetchPhases['http'] } = {};
  const fail = (code: FetchErrorCode, message: string, extra: { status?: number; location?: string } = {}): FetchResult =>
    ({ ok: false, url: urlText, code, message, ...extra, seconds: secondsSince(started), phases });
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    return fail('BAD_URL', `not a URL: ${JSON.stringify(urlText.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:') {
    return fail('UNSUPPORTED_SCHEME', `${url.protocol.replace(':', '')} URLs are not fetched (only http: is used for revocation)`);
  }
  const remaining = (): number => remainingMs(started, opts.timeoutMs);
  const host = hostOf(url);
  const port = url.port ? Number(url.port) : 80;

  let addresses: readonly string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    // No fallback to the system resolver: its queries would bypass the address guard.
    if (!opts.resolve) return fail('DNS_FAILED', `no resolver configured to look up ${host}`);
    const t = performance.now();
    const res = await opts.resolve(host, { timeoutMs: remaining(), signal });
    const ok = res.addresses.length > 0;
    phases.dns = { ok, seconds: secondsSince(t), addresses: [...res.addresses],
      ...(ok ? {} : { error: res.error ? `${res.error.code}: ${res.error.message}` : 'no address' }) };
    if (!ok) return fail('DNS_FAILED', `${host} did not resolve (${phases.dns.error ?? 'no address'})`);
    addresses = res.addresses;
  }
  const allowed = addresses.filter((a) => opts.guard.allows(a));
  const address = allowed[0];
  if (address === undefined) {
    return fail('GUARD_DENIED', `${host} resolves to ${addresses.join(', ')}, outside the allowed ranges (${opts.guard.describe().join(', ')})`);
  }
  if (signal.aborted) return fail(opts.signal?.aborted ? 'ABORTED' : 'HTTP_TIMEOUT', `no answer within ${opts.timeoutMs} ms`);

  // The caller's own signal, not this fetch's deadline: a connect that runs out of time is TCP_TIMEOUT
  // (an unreachable endpoint, REV-002), not an abort, which the rules pass over.
  const tcp = await tcpConnect(address, port, { guard: opts.guard, timeoutMs: remaining(), signal: opts.signal, keep: true });
  phases.tcp = { ok: tcp.ok, seconds: tcp.connectSeconds, address, port, state: tcp.state };
  if (!tcp.ok || !tcp.socket) return fail(tcp.ok ? 'TCP_ERROR' : tcp.code, tcp.ok ? 'no socket' : tcp.message);
  const socket: Socket = tcp.socket;

  const httpStart = performance.now();
  let bytes = 0;
  let status: number | undefined;
  const client = new Client(url.origin, {
    // The socket is already connected (and guard-checked); undici needs the callback asynchronously.
    connect: (_o, cb) => { process.nextTick(() => cb(null, socket)); },
    pipelining: 1,
    // The deadline signal decides; undici's own (coarse) timers only as a backstop.
    headersTimeout: remaining() + 1000,
    bodyTimeout: remaining() + 1000,
  });
  const httpPhase = (ok: boolean): void => {
    phases.http = { ok, seconds: secondsSince(httpStart), bytes, ...(status !== undefined ? { status } : {}) };
  };
  try {
    const res = await client.request({
      path: `${url.pathname}${url.search}`, method: opts.method ?? 'GET', signal,
      headers: { 'user-agent': USER_AGENT, host: url.host, ...opts.headers },
      ...(opts.body ? { body: opts.body } : {}),
    });
    res.body.on('error', () => undefined); // destroying the body early must not raise an unhandled error
    status = res.statusCode;
    const contentType = String(res.headers['content-type'] ?? '');
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (status >= 300 && status < 400 && !opts.anyStatus) {
      res.body.destroy();
      httpPhase(false);
      const loc = res.headers.location;
      const location = (Array.isArray(loc) ? loc[0] : loc) ?? '';
      return fail('HTTP_REDIRECT', `HTTP ${status} redirect to ${location.slice(0, 300)}`, { status, location });
    }
    // Reachability probes (anyStatus) only need an answer, not the body: a large page is still an answer.
    if (!opts.anyStatus && Number.isFinite(declared) && declared > opts.maxBytes) {
      res.body.destroy();
      httpPhase(false);
      return fail('HTTP_TOO_LARGE', `the server announces ${declared} bytes; the limit is ${opts.maxBytes}`, { status });
    }
    const chunks: Buffer[] = [];
    const cap = opts.anyStatus || (status >= 200 && status < 300) ? opts.maxBytes : 4096;
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      bytes += buf.length;
      if (bytes > cap) {
        res.body.destroy();
        if (opts.anyStatus) {
          chunks.push(buf.subarray(0, Math.max(0, buf.length - (bytes - cap))));
          bytes = cap;
          break;
        }
        httpPhase(false);
        return fail('HTTP_TOO_LARGE', `the body exceeds the limit of ${opts.maxBytes} bytes; reading stopped`, { status });
      }
      chunks.push(buf);
    }
    if (!opts.anyStatus && (status < 200 || status >= 300)) {
      httpPhase(false);
      return fail('HTTP_STATUS', `HTTP ${status}`, { status });
    }
    httpPhase(true);
    return { ok: true, url: urlText, status, contentType, body: Buffer.concat(chunks), seconds: secondsSince(started), phases };
  } catch (err) {
    httpPhase(false);
    const e = err as Error & { code?: string };
    if (opts.signal?.aborted) return fail('ABORTED', 'aborted', status !== undefined ? { status } : {});
    const timedOut = signal.aborted || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT';
    return fail(timedOut ? 'HTTP_TIMEOUT' : 'HTTP_ERROR',
      timedOut ? `no complete HTTP answer within ${opts.timeoutMs} ms` : `${e.code ?? e.name}: ${e.message}`,
      status !== undefined ? { status } : {});
  } finally {
    socket.destroy();
    client.destroy().catch(() => undefined);
  }
}
