// Client-side TLS for TDS: inside TDS 7.x (handshake in PRELOGIN packets, see
// tls-shim.ts) and TDS 8.0 strict (TLS first, ALPN "tds/8.0"). The handshake
// never rejects on validation: trust and host name are checked afterwards and
// reported, so a bad certificate is evidence, not an exception.
//
// API:
//   startTlsInTds(socket, opts) -> Promise<TlsSession>     TDS 7.x
//   startTlsStrict(socket, opts) -> Promise<TlsSession>    TDS 8.0
//   describeTls(tlsSocket, servername) -> TlsInfo          JSON-serialisable evidence
//   trustedCa(extraPem?) -> string[] | undefined           system roots + extra roots (for tedious)
// Both start functions reject with TlsError { code: TlsErrorCode }.
import { createHash, X509Certificate } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import * as tls from 'node:tls';
import { TdsTlsShim } from './tls-shim.js';

export type TlsErrorCode = 'TLS_HANDSHAKE_FAILED' | 'TLS_TIMEOUT' | 'TLS_CLOSED' | 'TLS_ABORTED' | 'TLS_PROTOCOL';

export class TlsError extends Error {
  constructor(readonly code: TlsErrorCode, message: string) {
    super(message);
  }
}

/** One certificate of the chain, leaf first. */
export interface CertInfo {
  readonly subject: string;
  readonly issuer: string;
  readonly subjectAltName?: string;
  readonly serialNumber: string;
  readonly validFrom: string; // ISO 8601
  readonly validTo: string;   // ISO 8601
  readonly fingerprint256: string;
  readonly selfSigned: boolean;
  readonly pem: string;
}

export interface TlsInfo {
  /** TLSv1.2, TLSv1.3 ... */
  readonly protocol: string;
  readonly cipher: string;
  /** Negotiated ALPN protocol, or undefined. */
  readonly alpn?: string;
  /** The name sent as SNI and checked against the certificate. */
  readonly servername: string;
  readonly chain: readonly CertInfo[];
  /** Chain verified against the trust store (system roots plus --ca-file). */
  readonly trusted: boolean;
  /** OpenSSL's verdict when not trusted: CERT_HAS_EXPIRED, UNABLE_TO_GET_ISSUER_CERT_LOCALLY ... */
  readonly trustError?: string;
  readonly hostnameMatch: boolean;
  readonly hostnameError?: string;
  /** Leaf validity at the time of the probe. */
  readonly expired: boolean;
  readonly notYetValid: boolean;
  /** Seconds until the leaf expires (negative when expired). */
  readonly expiresInSeconds: number;
}

export interface TlsSession {
  readonly socket: tls.TLSSocket;
  readonly info: TlsInfo;
}

export interface TlsStartOptions {
  /** The name the client used (FQDN): SNI and host-name check. */
  readonly servername: string;
  /** Extra trust anchors (PEM), trusted besides Node's default store. */
  readonly ca?: string | readonly string[] | undefined;
  readonly signal: AbortSignal;
  readonly callerSignal?: AbortSignal | undefined;
  /** TDS 7.x only: highest TLS version offered; SQL Server speaks TLS 1.2 here. */
  readonly maxVersion?: tls.SecureVersion;
}

/** Node's bundled roots plus extra PEM roots, or undefined for the default store. */
export function trustedCa(extraPem?: string | readonly string[]): string[] | undefined {
  const extra = extraPem === undefined ? [] : typeof extraPem === 'string' ? [extraPem] : [...extraPem];
  if (extra.length === 0) return undefined;
  return [...tls.rootCertificates, ...extra];
}

function sniOf(name: string): string | undefined {
  return isIP(name) === 0 && name.length > 0 ? name : undefined;
}

/** Secure contexts by extra anchors and version cap, made once: a context is costly to build. */
const CONTEXTS = new Map<string, tls.SecureContext>();
const MAX_CONTEXTS = 16;

/** The native context's method that adds one anchor to a copy of the default store (Node internal). */
type NativeContext = { addCACert?: (pem: string) => void };

function secureContext(extra: string | readonly string[] | undefined, maxVersion: tls.SecureVersion | undefined): tls.SecureContext {
  const anchors = extra === undefined ? [] : typeof extra === 'string' ? [extra] : [...extra];
  const key = `${maxVersion ?? '-'}|${anchors.length > 0 ? createHash('sha256').update(anchors.join('\n')).digest('base64') : 'default'}`;
  let ctx = CONTEXTS.get(key);
  if (!ctx) {
    const base = { minVersion: 'TLSv1.2' as const, ...(maxVersion ? { maxVersion } : {}) };
    ctx = tls.createSecureContext(base);
    const native = (ctx as { context?: NativeContext }).context;
    if (anchors.length > 0 && typeof native?.addCACert === 'function') {
      // Adding to the default store keeps it (and --use-openssl-ca / NODE_EXTRA_CA_CERTS) in force,
      // and costs ~2 ms; the public `ca` option re-parses all ~140 bundled roots (~45 ms).
      for (const pem of anchors) native.addCACert(pem);
    } else if (anchors.length > 0) {
      ctx = tls.createSecureContext({ ...base, ca: trustedCa(anchors) });
    }
    if (CONTEXTS.size >= MAX_CONTEXTS) CONTEXTS.delete(CONTEXTS.keys().next().value ?? '');
    CONTEXTS.set(key, ctx);
  }
  return ctx;
}

/**
 * Builds the contexts the TDS probes will use (TDS 7.x capped at TLS 1.2, and TDS 8) before any clock starts:
 * the first one loads the root store, which is our CPU work, not the handshake's.
 */
export function prepareTlsContexts(extra?: string | readonly string[]): void {
  secureContext(extra, 'TLSv1.2');
  secureContext(extra, undefined);
}

function secureOptions(opts: TlsStartOptions, maxVersion?: tls.SecureVersion): tls.ConnectionOptions {
  const o: tls.ConnectionOptions = {
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
    secureContext: secureContext(opts.ca, maxVersion),
  };
  const sni = sniOf(opts.servername);
  if (sni) o.servername = sni;
  return o;
}

function handshake(tlsSocket: tls.TLSSocket, opts: TlsStartOptions, onSecure?: () => void): Promise<TlsSession> {
  return new Promise<TlsSession>((resolve, reject) => {
    let settled = false;
    const finish = (err: TlsError | undefined): void => {
      if (settled) return;
      settled = true;
      opts.signal.removeEventListener('abort', onAbort);
      tlsSocket.off('secureConnect', onConnect);
      tlsSocket.off('error', onError);
      tlsSocket.off('close', onClose);
      if (err) {
        tlsSocket.on('error', () => undefined);
        tlsSocket.destroy();
        reject(err);
      } else {
        tlsSocket.on('error', () => undefined); // later errors surface on reads
        resolve({ socket: tlsSocket, info: describeTls(tlsSocket, opts.servername) });
      }
    };
    const onAbort = (): void => {
      finish(opts.callerSignal?.aborted
        ? new TlsError('TLS_ABORTED', 'aborted')
        : new TlsError('TLS_TIMEOUT', 'the TLS handshake did not finish before the deadline'));
    };
    const onConnect = (): void => {
      onSecure?.();
      finish(undefined);
    };
    const onError = (err: NodeJS.ErrnoException): void => {
      const code = (err as { code?: string }).code;
      if (code === 'TDS_BAD_LENGTH' || code === 'TDS_MALFORMED') {
        finish(new TlsError('TLS_PROTOCOL', `the server broke TDS framing during the handshake: ${err.message}`));
      } else if (code === 'ECONNRESET') {
        finish(new TlsError('TLS_CLOSED', 'the server reset the connection during the TLS handshake'));
      } else {
        finish(new TlsError('TLS_HANDSHAKE_FAILED', `${code ? `${code}: ` : ''}${err.message}`));
      }
    };
    const onClose = (): void => finish(new TlsError('TLS_CLOSED', 'the server closed the connection during the TLS handshake'));
    if (opts.signal.aborted) return onAbort();
    opts.signal.addEventListener('abort', onAbort, { once: true });
    tlsSocket.once('secureConnect', onConnect);
    tlsSocket.once('error', onError);
    tlsSocket.once('close', onClose);
  });
}

/** TLS inside TDS 7.x on a socket that has just exchanged PRELOGIN. */
export function startTlsInTds(socket: Socket, opts: TlsStartOptions): Promise<TlsSession> {
  const shim = new TdsTlsShim(socket, 'client');
  const tlsSocket = tls.connect({ ...secureOptions(opts, opts.maxVersion ?? 'TLSv1.2'), socket: shim });
  return handshake(tlsSocket, opts, () => shim.stopWrapping());
}

/** Plain TLS on a TCP connection (an HTTPS endpoint whose chain is checked for revocation). */
export function startTls(socket: Socket, opts: TlsStartOptions): Promise<TlsSession> {
  return handshake(tls.connect({ ...secureOptions(opts), socket }), opts);
}

/** TDS 8.0 strict: TLS on the bare TCP connection, ALPN tds/8.0. */
export function startTlsStrict(socket: Socket, opts: TlsStartOptions): Promise<TlsSession> {
  const tlsSocket = tls.connect({ ...secureOptions(opts), socket, ALPNProtocols: ['tds/8.0'] });
  return handshake(tlsSocket, opts);
}

function certInfo(cert: X509Certificate): CertInfo {
  const info: CertInfo = {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    serialNumber: cert.serialNumber,
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    fingerprint256: cert.fingerprint256,
    selfSigned: cert.checkIssued(cert),
    pem: cert.toString(),
  };
  return cert.subjectAltName ? { ...info, subjectAltName: cert.subjectAltName } : info;
}

/**
 * The peer chain as sent and as completed by the trust store, leaf first, bounded to 10.
 * Uses getPeerCertificate(true) only: in Node 20, calling getPeerX509Certificate()
 * first leaves later getPeerCertificate() calls empty.
 */
function peerChain(detailed: tls.DetailedPeerCertificate | undefined): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let cert: tls.DetailedPeerCertificate | undefined = detailed;
  while (cert && cert.raw && out.length < 10) {
    const x = new X509Certificate(cert.raw);
    if (seen.has(x.fingerprint256)) break;
    seen.add(x.fingerprint256);
    out.push(x);
    cert = cert.issuerCertificate;
  }
  return out;
}

export function describeTls(tlsSocket: tls.TLSSocket, servername: string): TlsInfo {
  const detailed = tlsSocket.getPeerCertificate(true);
  const chain = peerChain(detailed && detailed.raw ? detailed : undefined);
  const leaf = chain[0];
  const now = Date.now();
  let hostnameError: string | undefined;
  if (!leaf) {
    hostnameError = 'the server sent no certificate';
  } else {
    const err = tls.checkServerIdentity(servername, detailed);
    if (err) hostnameError = err.message;
  }
  const verify = tlsSocket.authorizationError as unknown as string | Error | null | undefined;
  const trustError = verify ? (typeof verify === 'string' ? verify : (verify as NodeJS.ErrnoException).code ?? verify.message) : undefined;
  const cipher = tlsSocket.getCipher();
  const alpn = tlsSocket.alpnProtocol;
  const validTo = leaf ? new Date(leaf.validTo).getTime() : 0;
  const validFrom = leaf ? new Date(leaf.validFrom).getTime() : 0;
  const info: TlsInfo = {
    protocol: tlsSocket.getProtocol() ?? 'unknown',
    cipher: cipher?.standardName ?? cipher?.name ?? 'unknown',
    servername,
    chain: chain.map(certInfo),
    trusted: leaf !== undefined && tlsSocket.authorized,
    hostnameMatch: leaf !== undefined && hostnameError === undefined,
    expired: leaf !== undefined && validTo < now,
    notYetValid: leaf !== undefined && validFrom > now,
    expiresInSeconds: leaf ? Math.round((validTo - now) / 1000) : 0,
  };
  return {
    ...info,
    ...(typeof alpn === 'string' ? { alpn } : {}),
    ...(trustError ? { trustError } : {}),
    ...(hostnameError ? { hostnameError } : {}),
  };
}
