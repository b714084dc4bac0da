// Bounded HTTP GET/POST for CRLs, OCSP and CA-issuer certificates, in three
// timed phases: DNS (an injected resolver), TCP (the shared classifier, after
// the address guard has seen the IP) and HTTP (undici on that very socket,
// body streamed and cut at a byte cap; TLS first for https URLs). Redirects
// are followed only to the same origin; anything else is reported, never
// followed. What answers instead of a CA (an HTML page, a 403 block page, a
// 407 proxy, a redirect loop, an untrusted TLS certificate, silence after
// the connection was accepted) is an error of its own kind, with evidence.
// The HTTP phase is timed at the socket's events, from the request's first write to
// the read that brought the answer's last bytes: undici's setup and our reading of
// the body are not the network's time.
import { createServer, isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { Client } from './undici-client.js';
import type { HostResolver } from '../resolver.js';
import { remainingMs, secondsSince, startDeadline } from '../deadline.js';
import { AddressGuard } from '../guard.js';
import { tcpConnect, type TcpErrorCode } from '../tcp.js';

export type { HostResolution, HostResolver } from '../resolver.js';

export type FetchErrorCode =
  | 'UNSUPPORTED_SCHEME' | 'BAD_URL' | 'DNS_FAILED' | 'GUARD_DENIED' | TcpErrorCode
  /** The connection was accepted and the request sent, but no response headers came before the deadline. */
  | 'HTTP_HEADERS_TIMEOUT'
  /** Headers came, the body did not finish before the deadline. */
  | 'HTTP_TIMEOUT'
  | 'HTTP_STATUS' | 'HTTP_TOO_LARGE' | 'HTTP_ERROR'
  /** A 2xx HTML page: a captive portal or an egress filter's page, never a CRL, OCSP answer or certificate. */
  | 'HTTP_HTML'
  /** 403: refused, typically by an egress filter or proxy. */
  | 'HTTP_FORBIDDEN'
  /** 407: an HTTP proxy intercepted the request and demands credentials. */
  | 'HTTP_PROXY_AUTH'
  /** More same-origin redirects than allowed. */
  | 'HTTP_REDIRECT'
  | 'HTTP_REDIRECT_OFF_HOST' | 'HTTP_REDIRECT_LOOP'
  /** https: the certificate presented does not chain to a trusted root or does not name the host (interception). */
  | 'TLS_UNTRUSTED'
  /** https: the TLS handshake failed. */
  | 'TLS_ERROR';

export interface FetchPhases {
  readonly dns?: { readonly ok: boolean; readonly seconds: number; readonly addresses: readonly string[]; readonly error?: string;
    /** The resolver's error code (DNS_TIMEOUT, DNS_NXDOMAIN ...). */
    readonly code?: string };
  readonly tcp?: { readonly ok: boolean; readonly seconds: number; readonly address: string; readonly port: number; readonly state: string };
  readonly tls?: { readonly ok: boolean; readonly seconds: number; readonly protocol?: string };
  readonly http?: { readonly ok: boolean; readonly seconds: number; readonly status?: number; readonly bytes: number };
}

/** What answered, as evidence: enough to tell a CA from a portal, a filter or a proxy. */
export interface AnswerEvidence {
  readonly status?: number;
  readonly contentType?: string;
  /** Bytes of the body read (reading stops at the cap). */
  readonly bytes?: number;
  /** The start of the body as text: control characters replaced, at most PREVIEW_CHARS characters (hex when binary). */
  readonly firstBytes?: string;
  /** Each redirect seen, in order: "302 http://a/x -> http://b/y". */
  readonly redirects?: readonly string[];
  /** The Proxy-Authenticate header of a 407 (bounded). */
  readonly proxyAuthenticate?: string;
  /** The certificate an https endpoint presented when it was not trusted. */
  readonly certificate?: { readonly subject: string; readonly issuer: string; readonly reason: string };
}

export type FetchResult =
  | { ok: true; url: string; status: number; contentType: string; body: Buffer; seconds: number; phases: FetchPhases;
      redirects?: readonly string[] }
  | { ok: false; url: string; code: FetchErrorCode; message: string; status?: number; location?: string; seconds: number;
      phases: FetchPhases; answer?: AnswerEvidence };

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
  /** Trust anchors for https URLs (PEM). Default: Node's bundled root store. */
  readonly tlsCa?: readonly string[];
}

const USER_AGENT = 'miprobe-revocation/0.1';
/** A signal that never aborts, for callers without one. */
const NEVER: AbortSignal = new AbortController().signal;
/** Characters of a body quoted as evidence. */
export const PREVIEW_CHARS = 120;
/** Bytes of a body read when it is an error page or HTML: enough for evidence, never a whole page. */
const EVIDENCE_BYTES = 4096;

function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufffd]/g;

/**
 * The start of a body as one line of text for evidence: whitespace collapsed, control and
 * direction-changing characters replaced with '.', at most `max` characters; mostly binary
 * bodies are shown as hex instead.
 */
export function textPreview(body: Buffer, max = PREVIEW_CHARS): string {
  const head = body.subarray(0, max * 2);
  const text = head.toString('utf8').replace(/[\t\r\n\f\v ]+/g, ' ');
  const unprintable = (text.match(UNPRINTABLE) ?? []).length;
  if (head.length > 0 && unprintable > text.length / 4) {
    const bytes = body.subarray(0, Math.floor(max / 3));
    return `hex ${bytes.toString('hex').replace(/(..)(?=.)/g, '$1 ')}${body.length > bytes.length ? ' ...' : ''}`;
  }
  const clean = text.replace(UNPRINTABLE, '.').trim();
  return clean.length > max || body.length > head.length ? `${clean.slice(0, max)}...` : clean;
}

/** Header text for evidence: printable, bounded. */
function headerText(value: string | string[] | undefined, max = 100): string {
  const v = Array.isArray(value) ? value.join(', ') : value ?? '';
  return v.replace(UNPRINTABLE, '.').slice(0, max);
}

const HTML_START = /^\s*(?:<!doctype\s+html|<html|<head|<body|<title|<meta|<script|<!--[\s\S]*?<html)/i;

/**
 * Whether an answer is an HTML page: by its first bytes, or by its type unless the bytes are DER or
 * PEM (a CA that labels its CRL text/html still serves a CRL).
 */
export function isHtml(contentType: string, body: Buffer): boolean {
  const head = body.subarray(0, 512).toString('latin1');
  if (HTML_START.test(head)) return true;
  const derOrPem = body[0] === 0x30 || head.trimStart().startsWith('-----BEGIN');
  return /\b(?:text\/html|application\/xhtml)/i.test(contentType) && !derOrPem;
}

/**
 * One fetch from a listener of this process, before any clock starts: undici's first request compiles
 * its HTTP parser (WebAssembly) and loads its request path, tens of ms of our CPU that would otherwise
 * sit inside the phases of the revocation fetches running beside it. Never throws.
 */
let fetchWarmed: Promise<void> | undefined;

/** Once per process (see warmUpFetchOnce). */
export function warmUpFetch(): Promise<void> {
  fetchWarmed ??= warmUpFetchOnce();
  return fetchWarmed;
}

async function warmUpFetchOnce(): Promise<void> {
  // A bare TCP listener answering one fixed HTTP response (node:http stays unloaded).
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/pkix-crl\r\ncontent-length: 2\r\nconnection: close\r\n\r\n0\u0000'));
  });
  try {
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', () => resolve()); });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await boundedFetch(`http://127.0.0.1:${port}/warm-up.crl`, { guard: AddressGuard.fromList(['127.0.0.1/32']), timeoutMs: 1000, maxBytes: 1024 });
  } catch {
    // Only a warm-up: the probes work without it.
  } finally {
    server.close();
  }
}

/** Fetches one URL within the deadline and size cap; never throws. */
export async function boundedFetch(urlText: string, opts: FetchOptions): Promise<FetchResult> {
  const started = performance.now();
  const deadline = startDeadline(opts);
  const hops: string[] = [];
  const withHops = <T extends FetchResult>(r: T): T => {
    if (hops.length === 0) return r;
    return r.ok ? { ...r, redirects: [...hops] } : { ...r, answer: { ...r.answer, redirects: [...hops] } };
  };
  try {
    let current = urlText;
    const visited = new Set<string>([new URL(urlText, 'http://invalid/').href]);
    for (let hop = 0; ; hop++) {
      const r = await fetchOnce(current, opts, deadline.signal, started);
      if (r.ok || r.code !== 'HTTP_REDIRECT' || r.location === undefined) return withHops({ ...r, url: urlText });
      let next: URL;
      try {
        next = new URL(r.location, current);
      } catch {
        return withHops({ ...r, url: urlText, message: `redirect to an invalid location ${JSON.stringify(headerText(r.location, 200))}` });
      }
      hops.push(`${r.status ?? 3} ${current} -> ${next.href}`);
      const chain = hops.join(', ');
      if (visited.has(next.href)) {
        return withHops({ ...r, url: urlText, code: 'HTTP_REDIRECT_LOOP', message: `redirect loop: ${chain}` });
      }
      visited.add(next.href);
      const from = new URL(current);
      if (next.origin !== from.origin) {
        // Another host (a portal, a filter's page) or the same host on another scheme or port: not the URL clients fetch.
        const what = next.hostname === from.hostname ? `another scheme or port (${next.origin})` : `another host (${next.origin})`;
        return withHops({ ...r, url: urlText, code: 'HTTP_REDIRECT_OFF_HOST',
          message: `HTTP ${r.status ?? 3} redirect to ${what}, not followed: ${chain}` });
      }
      if (hop >= (opts.maxRedirects ?? 2)) {
        return withHops({ ...r, url: urlText, message: `more than ${opts.maxRedirects ?? 2} redirects: ${chain}` });
      }
      current = next.href;
    }
  } catch (err) {
    // Nothing above should throw; a bug here must still not reject the caller.
    return { ok: false, url: urlText, code: 'HTTP_ERROR', message: `unexpected: ${(err as Error).message.slice(0, 200)}`,
      seconds: secondsSince(started), phases: {} };
  } finally {
    deadline.done();
  }
}

function certName(cert: PeerCertificate, which: 'subject' | 'issuer'): string {
  const n = cert[which] as Partial<Record<string, string | string[]>> | undefined;
  const part = (k: string): string => { const v = n?.[k]; return Array.isArray(v) ? v.join('+') : v ?? ''; };
  return headerText(['CN', 'O'].map((k) => (part(k) ? `${k}=${part(k)}` : '')).filter(Boolean).join(', ') || '(no name)', 160);
}

/** OpenSSL's verification codes most often seen from intercepting middleboxes, in words. */
const TLS_REASONS: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'a self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'the chain ends in a root this host does not trust',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'issued by a CA this host does not trust',
  UNABLE_TO_GET_ISSUER_CERT: 'issued by a CA this host does not trust',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'issued by a CA this host does not trust',
  CERT_HAS_EXPIRED: 'expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate is for another name',
};

type TlsOutcome =
  | { ok: true; socket: TLSSocket; protocol?: string }
  | { ok: false; code: 'TLS_UNTRUSTED' | 'TLS_ERROR' | 'HTTP_TIMEOUT' | 'ABORTED'; message: string;
      certificate?: AnswerEvidence['certificate'] };

/**
 * TLS on the connected socket; the chain and the name are checked here (not by Node, which would
 * only say "failed") so an intercepting middlebox can be named by the certificate it presented.
 */
function secure(socket: Socket, host: string, ca: readonly string[] | undefined, signal: AbortSignal, callerSignal?: AbortSignal): Promise<TlsOutcome> {
  return new Promise((resolve) => {
    const tls = tlsConnect({ socket, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'],
      ...(isIP(host) === 0 ? { servername: host } : {}), ...(ca ? { ca: [...ca] } : {}) });
    const finish = (outcome: TlsOutcome): void => {
      signal.removeEventListener('abort', onAbort);
      tls.removeAllListeners('secureConnect');
      if (!outcome.ok) tls.destroy();
      resolve(outcome);
    };
    const onAbort = (): void => finish(callerSignal?.aborted ? { ok: false, code: 'ABORTED', message: 'aborted' }
      : { ok: false, code: 'HTTP_TIMEOUT', message: 'no TLS handshake before the deadline' });
    signal.addEventListener('abort', onAbort, { once: true });
    tls.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, code: 'TLS_ERROR',
      message: `TLS handshake failed (${err.code ?? err.name}: ${err.message.slice(0, 160)}): not a TLS server on this port, or something in between ended it` }));
    tls.once('secureConnect', () => {
      const peer = tls.getPeerCertificate();
      const certificate = (reason: string): AnswerEvidence['certificate'] =>
        ({ subject: certName(peer, 'subject'), issuer: certName(peer, 'issuer'), reason });
      // Node reports the reason as a string code (its typings say Error); both are handled.
      const raw = tls.authorizationError as unknown;
      const code = typeof raw === 'string' ? raw : raw instanceof Error ? (raw as Error & { code?: string }).code ?? raw.message : undefined;
      const mismatch = !code && isIP(host) === 0 ? checkServerIdentity(host, peer) : undefined;
      const problem = code ?? (mismatch ? (mismatch as Error & { code?: string }).code ?? 'ERR_TLS_CERT_ALTNAME_INVALID' : undefined);
      if (!tls.authorized || problem) {
        const reason = `${problem ?? 'UNTRUSTED'}${TLS_REASONS[problem ?? ''] ? ` (${TLS_REASONS[problem ?? '']})` : ''}`;
        const what = problem === 'ERR_TLS_CERT_ALTNAME_INVALID' ? `does not name ${host}` : 'is not trusted';
        finish({ ok: false, code: 'TLS_UNTRUSTED', certificate: certificate(reason),
          message: `the certificate presented (subject ${certName(peer, 'subject')}, issuer ${certName(peer, 'issuer')}) ${what}: ${reason}` });
        return;
      }
      const protocol = tls.getProtocol();
      finish({ ok: true, socket: tls, ...(protocol ? { protocol } : {}) });
    });
  });
}

/** When a request's first byte was written to the socket and when its latest bytes were readable there. */
function watchExchange(socket: Socket): { readonly sentAt: () => number | undefined; readonly readAt: () => number | undefined } {
  let sentAt: number | undefined;
  let readAt: number | undefined;
  const write = socket.write;
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
    sentAt ??= performance.now();
    return write.apply(this, args);
  } as Socket['write'];
  // undici reads on 'readable' (emitted when bytes arrive); ours runs first and only notes the time.
  socket.prependListener('readable', () => { if (sentAt !== undefined) readAt = performance.now(); });
  return { sentAt: () => sentAt, readAt: () => readAt };
}

async function fetchOnce(urlText: string, opts: FetchOptions, signal: AbortSignal, started: number): Promise<FetchResult> {
  const phases: { dns?: FetchPhases['dns']; tcp?: FetchPhases['tcp']; tls?: FetchPhases['tls']; http?: FetchPhases['http'] } = {};
  const fail = (code: FetchErrorCode, message: string, extra: { status?: number; location?: string; answer?: AnswerEvidence } = {}): FetchResult =>
    ({ ok: false, url: urlText, code, message, ...extra, seconds: secondsSince(started), phases });
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    return fail('BAD_URL', `not a URL: ${JSON.stringify(urlText.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return fail('UNSUPPORTED_SCHEME', `${url.protocol.replace(':', '')} URLs are not fetched (only http: and https:)`);
  }
  const https = url.protocol === 'https:';
  const remaining = (): number => remainingMs(started, opts.timeoutMs);
  const host = hostOf(url);
  const port = url.port ? Number(url.port) : https ? 443 : 80;

  let addresses: readonly string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    // No fallback to the system resolver: its queries would bypass the address guard.
    if (!opts.resolve) return fail('DNS_FAILED', `no resolver configured to look up ${host}`);
    const t = performance.now();
    // Like the TCP connect below: the caller's signal and the remaining time, so a resolver that does not
    // answer is DNS_TIMEOUT (DNS-002's evidence) rather than this fetch's own deadline aborting the lookup.
    const res = await opts.resolve(host, { timeoutMs: remaining(), signal: opts.signal ?? NEVER });
    const ok = res.addresses.length > 0;
    phases.dns = { ok, seconds: secondsSince(t), addresses: [...res.addresses],
      ...(ok ? {} : { error: res.error ? `${res.error.code}: ${res.error.message}` : 'no address', ...(res.error ? { code: res.error.code } : {}) }) };
    if (!ok && opts.signal?.aborted) return fail('ABORTED', 'aborted');
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
  const raw: Socket = tcp.socket;
  let socket: Socket = raw;

  if (https) {
    const tlsStart = performance.now();
    const outcome = await secure(socket, host, opts.tlsCa, signal, opts.signal);
    phases.tls = { ok: outcome.ok, seconds: secondsSince(tlsStart), ...(outcome.ok && outcome.protocol ? { protocol: outcome.protocol } : {}) };
    if (!outcome.ok) {
      socket.destroy();
      return fail(outcome.code, outcome.message, outcome.certificate ? { answer: { certificate: outcome.certificate } } : {});
    }
    socket = outcome.socket;
  }

  const httpStart = performance.now();
  let bytes = 0;
  let status: number | undefined;
  const connected = socket;
  const exchange = watchExchange(connected);
  const client = new Client(url.origin, {
    // The socket is already connected (and guard-checked); undici needs the callback asynchronously.
    connect: (_o, cb) => { process.nextTick(() => cb(null, connected)); },
    pipelining: 1,
    // The deadline signal decides; undici's own (coarse) timers only as a backstop.
    headersTimeout: remaining() + 1000,
    bodyTimeout: remaining() + 1000,
  });
  const httpPhase = (ok: boolean): void => {
    // An answer: request written to last bytes read. None (a timeout): the wait from the request until now.
    const from = exchange.sentAt() ?? httpStart;
    const to = exchange.readAt() ?? performance.now();
    phases.http = { ok, seconds: Math.round(Math.max(0, to - from) * 1000) / 1e6, bytes, ...(status !== undefined ? { status } : {}) };
  };
  try {
    const res = await client.request({
      path: `${url.pathname}${url.search}`, method: opts.method ?? 'GET', signal,
      headers: { 'user-agent': USER_AGENT, host: url.host, ...opts.headers },
      ...(opts.body ? { body: opts.body } : {}),
    });
    res.body.on('error', () => undefined); // destroying the body early must not raise an unhandled error
    status = res.statusCode;
    const contentType = headerText(res.headers['content-type'], 120);
    const declared = Number(res.headers['content-length'] ?? NaN);
    const evidence = (body: Buffer): AnswerEvidence => ({ status, ...(contentType ? { contentType } : {}), bytes,
      ...(body.length > 0 ? { firstBytes: textPreview(body) } : {}) });
    if (status >= 300 && status < 400) {
      res.body.destroy();
      httpPhase(false);
      const location = res.headers.location === undefined ? undefined : headerText(res.headers.location, 2000);
      return fail('HTTP_REDIRECT', location === undefined ? `HTTP ${status} without a Location header` : `HTTP ${status} redirect to ${location.slice(0, 300)}`,
        { status, ...(location !== undefined ? { location } : {}), answer: { status, ...(contentType ? { contentType } : {}) } });
    }
    const success = status >= 200 && status < 300;
    if (success && Number.isFinite(declared) && declared > opts.maxBytes) {
      res.body.destroy();
      httpPhase(false);
      return fail('HTTP_TOO_LARGE', `the server announces ${declared} bytes; the limit is ${opts.maxBytes}`,
        { status, answer: { status, ...(contentType ? { contentType } : {}) } });
    }
    // Error pages and HTML pages are read only as far as evidence needs.
    let cap = success ? opts.maxBytes : EVIDENCE_BYTES;
    const chunks: Buffer[] = [];
    let truncated = false;
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      if (bytes === 0 && isHtml(contentType, buf)) cap = Math.min(cap, EVIDENCE_BYTES);
      bytes += buf.length;
      if (bytes > cap) {
        res.body.destroy();
        chunks.push(buf.subarray(0, Math.max(0, buf.length - (bytes - cap))));
        bytes = cap;
        truncated = true;
        break;
      }
      chunks.push(buf);
    }
    const body = Buffer.concat(chunks);
    if (status === 407) {
      httpPhase(false);
      const proxyAuthenticate = headerText(res.headers['proxy-authenticate']);
      return fail('HTTP_PROXY_AUTH', `HTTP 407 Proxy Authentication Required${proxyAuthenticate ? ` (Proxy-Authenticate: ${proxyAuthenticate})` : ''}: `
        + 'an HTTP proxy intercepted the request and demands credentials', { status, answer: { ...evidence(body), ...(proxyAuthenticate ? { proxyAuthenticate } : {}) } });
    }
    if (status === 403) {
      httpPhase(false);
      return fail('HTTP_FORBIDDEN', `HTTP 403 Forbidden${contentType ? ` (${contentType})` : ''}: refused, typically by an egress filter or proxy`
        + `${body.length ? `; the page says "${textPreview(body)}"` : ''}`, { status, answer: evidence(body) });
    }
    if (!success) {
      httpPhase(false);
      return fail('HTTP_STATUS', `HTTP ${status}${contentType ? ` (${contentType})` : ''}${body.length ? `: "${textPreview(body)}"` : ''}`,
        { status, answer: evidence(body) });
    }
    if (isHtml(contentType, body)) {
      httpPhase(false);
      return fail('HTTP_HTML', `HTTP ${status} ${contentType || '(no content type)'}: an HTML page, not a CRL, OCSP response or certificate `
        + `(a captive portal or an egress filter's page): "${textPreview(body)}"`, { status, answer: evidence(body) });
    }
    if (truncated) {
      httpPhase(false);
      return fail('HTTP_TOO_LARGE', `the body exceeds the limit of ${opts.maxBytes} bytes (an endless or oversized answer); reading stopped`
        + `${contentType ? ` (${contentType})` : ''}`, { status, answer: evidence(body) });
    }
    httpPhase(true);
    return { ok: true, url: urlText, status, contentType, body, seconds: secondsSince(started), phases };
  } catch (err) {
    httpPhase(false);
    const e = err as Error & { code?: string };
    const answer = status !== undefined ? { status } : {};
    if (opts.signal?.aborted) return fail('ABORTED', 'aborted', { ...answer, ...(status !== undefined ? { answer } : {}) });
    const timedOut = signal.aborted || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT';
    if (timedOut && status === undefined) {
      return fail('HTTP_HEADERS_TIMEOUT', `${address}:${port} accepted the connection${https ? ' and TLS' : ''} and got the request, `
        + `but sent no HTTP response headers within ${opts.timeoutMs} ms`);
    }
    if (timedOut) {
      return fail('HTTP_TIMEOUT', `HTTP ${status ?? '?'} headers came, but the body (${bytes} bytes so far) did not finish within ${opts.timeoutMs} ms`,
        { ...answer, answer: { ...answer, bytes } });
    }
    return fail('HTTP_ERROR', `${e.code ?? e.name}: ${e.message.slice(0, 200)}`, status !== undefined ? { status, answer } : {});
  } finally {
    socket.destroy();
    raw.destroy();
    client.destroy().catch(() => undefined);
  }
}
