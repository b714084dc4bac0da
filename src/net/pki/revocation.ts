// Revocation checking: the status of every certificate of a captured chain
// (CRL and OCSP, missing intermediates fetched from CA-issuer URLs), and
// whether revocation endpoints are served by a CA (a CRL that parses, an OCSP
// response) rather than by whatever answers in its place. The probes in
// src/probes/revocation.ts call these; src/diagnosis/revocation-rules.ts
// decides what results mean.
import { createHash, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { remainingMs } from '../deadline.js';
import type { AddressGuard } from '../guard.js';
import type { RevocationCache } from './cache.js';
import { checkCrl, DEFAULT_MAX_CRL_BYTES, freshness, parseCrl } from './crl.js';
import { issuedBy, keyHash, nativeCert, ParsedCertificate, x509 } from './crypto.js';
import { revocationInfo, schemeOf, type RevocationInfo } from './extensions.js';
import { boundedFetch, textPreview, type AnswerEvidence, type FetchPhases, type FetchResult, type HostResolver } from './http.js';
import { DEFAULT_MAX_CERT_BYTES, fetchIssuers, parseCertificates, type IssuerFetch } from './issuers.js';
import { checkOcsp, DEFAULT_MAX_OCSP_BYTES } from './ocsp.js';
import { PROBE_OCSP_REQUEST, readOcspResponse } from './ocsp-probe.js';
import type { CheckError, CrlCheck, Freshness, OcspCheck, RevocationStatus } from './types.js';

export type { CrlCheck, OcspCheck, RevocationStatus, CheckError } from './types.js';
export type { AnswerEvidence } from './http.js';


export interface RevocationCheckOptions {
  readonly guard: AddressGuard;
  /** Deadline of the whole chain check, ms. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Host name resolution for CRL/OCSP/AIA hosts (miprobe's resolver; there is no system fallback, it would bypass the guard). */
  readonly resolve?: HostResolver;
  /** Shared across checks so repeated checks cost no fetch until nextUpdate. */
  readonly cache?: RevocationCache;
  /** The clock for freshness. Default: the cache's clock, else the wall clock. */
  readonly now?: () => Date;
  readonly ocspMethod?: 'auto' | 'GET' | 'POST';
  readonly ocspNonce?: boolean;
  /** Fetch an issuer the server did not send from the CA-issuers URL. Default true. */
  readonly fetchMissingIssuers?: boolean;
  /** Extra certificates to build the chain with (e.g. trust anchors), PEM. */
  readonly extraCertificatesPem?: readonly string[];
  /** Also look issuers up in Node's bundled root store (tls.rootCertificates). Default true. */
  readonly systemRoots?: boolean;
  readonly maxCrlBytes?: number;
  readonly maxOcspBytes?: number;
  /** What the chain belongs to (gateway, redirect node, public endpoint ...). */
  readonly subject?: string;
}

export interface CertificateRevocation {
  /** 0 = leaf. */
  readonly position: number;
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly notAfter: string;
  readonly selfSigned: boolean;
  readonly info: RevocationInfo;
  /** Where the issuer came from: the chain sent (or trust anchors), a CA-issuers fetch, itself (a root), or nowhere. */
  readonly issuerSource: 'chain' | 'aia' | 'self' | 'missing';
  /** The issuer is a self-signed root (servers need not send roots). */
  readonly issuerIsRoot?: boolean;
  /** CDP/OCSP URLs with schemes miprobe (and most clients) do not fetch, e.g. ldap://. */
  readonly unsupportedUrls: readonly string[];
  readonly crl: readonly CrlCheck[];
  readonly ocsp: readonly OcspCheck[];
  readonly status: RevocationStatus;
  readonly revocation?: { readonly reason: string; readonly date: string; readonly source: 'crl' | 'ocsp' };
}

export interface ChainRevocationResult {
  /** No certificate revoked, and every certificate below the root has a verified good status. */
  readonly ok: boolean;
  readonly subject?: string;
  readonly seconds: number;
  readonly certificates: readonly CertificateRevocation[];
  readonly issuerFetches: readonly IssuerFetch[];
  /** Set when the chain itself could not be read. */
  readonly error?: CheckError;
}

/**
 * A certificate with what the checks read from it, parsed once per DER (bounded memo): parsing and
 * extension decoding dominate the cost of a cached check otherwise.
 */
interface Known {
  readonly cert: x509.X509Certificate;
  readonly hash: string;
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly notAfter: string;
  readonly info: RevocationInfo;
  /** SHA-1 of the public key (hex), the key id of CRL/OCSP cache entries. */
  readonly keyId: string;
}

const KNOWN = new Map<string, Known>();
const MAX_KNOWN = 2048;

function known(der: Buffer, parsedCert?: x509.X509Certificate): Known {
  const hash = createHash('sha256').update(der).digest('base64');
  const hit = KNOWN.get(hash);
  if (hit) return hit;
  const cert = parsedCert ?? new ParsedCertificate(der);
  const k: Known = {
    cert, hash, subject: cert.subject, issuer: cert.issuer, serial: cert.serialNumber, notAfter: cert.notAfter.toISOString(),
    info: revocationInfo(cert), keyId: keyHash(cert.publicKey.rawData).toString('hex'),
  };
  if (KNOWN.size >= MAX_KNOWN) KNOWN.delete(KNOWN.keys().next().value ?? '');
  KNOWN.set(hash, k);
  return k;
}

type SubjectIndex = Map<string, Known[]>;

function indexBySubject(certs: readonly Known[], into: SubjectIndex = new Map()): SubjectIndex {
  for (const c of certs) {
    const list = into.get(c.subject) ?? [];
    list.push(c);
    into.set(c.subject, list);
  }
  return into;
}

let SYSTEM_ROOTS: NodeX509Certificate[] | undefined;

/**
 * Issuers of `cert` among Node's bundled roots. Node's native parser screens the ~140 roots
 * (checkIssued compares names); only matches are parsed with @peculiar/x509.
 */
function systemIssuers(cert: Known): Known[] {
  if (!SYSTEM_ROOTS) {
    SYSTEM_ROOTS = [];
    for (const pem of rootCertificates) {
      try {
        SYSTEM_ROOTS.push(new NodeX509Certificate(pem));
      } catch {
        // skip what Node cannot read
      }
    }
  }
  const nodeCert = nativeCert(cert.cert.rawData);
  if (!nodeCert) return [];
  const out: Known[] = [];
  for (const root of SYSTEM_ROOTS) {
    if (!nodeCert.checkIssued(root)) continue;
    try {
      out.push(known(root.raw));
    } catch {
      // unreadable for x509: skip
    }
  }
  return out;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

function pemBlocks(chainPem: readonly string[]): Buffer[] {
  return chainPem.flatMap((text) => [...text.matchAll(PEM_CERT)].map((m) => Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64')));
}

/** Splits PEM text (one or several blocks per entry) into certificates. */
export function parsePemChain(chainPem: readonly string[]): x509.X509Certificate[] {
  return pemBlocks(chainPem).map((der) => known(der).cert);
}

/** Signature verdicts already computed, keyed by the two certificates' hashes (bounded). */
const VERIFIED = new Map<string, boolean>();
const MAX_VERIFIED = 4096;

function issues(issuer: Known, cert: Known): boolean {
  if (issuer.subject !== cert.issuer) return false;
  const key = `${issuer.hash} ${cert.hash}`;
  const hit = VERIFIED.get(key);
  if (hit !== undefined) return hit;
  let ok: boolean;
  try {
    ok = issuedBy(cert.cert.rawData, issuer.cert.rawData);
  } catch {
    ok = false; // a certificate whose signature cannot even be checked issued nothing
  }
  if (VERIFIED.size >= MAX_VERIFIED) VERIFIED.delete(VERIFIED.keys().next().value ?? '');
  VERIFIED.set(key, ok);
  return ok;
}

const unreadable = (err: unknown): CheckError =>
  ({ code: 'PARSE_ERROR', message: `unreadable answer: ${err instanceof Error ? err.message.slice(0, 200) : 'unknown error'}` });

/**
 * One CRL or OCSP check whose failure stays on its own line: whatever a parser throws on what one URL
 * sent becomes that line's error, and the other URLs and certificates keep their results.
 */
async function contained<T extends CrlCheck | OcspCheck>(check: () => Promise<T>, onThrow: (error: CheckError) => T): Promise<T> {
  const started = performance.now();
  try {
    return await check();
  } catch (err) {
    return { ...onThrow(unreadable(err)), seconds: (performance.now() - started) / 1000 };
  }
}

/** Checks the revocation status of every certificate of a chain (leaf first). Never throws. */
export async function checkChainRevocation(chainPem: readonly string[], opts: RevocationCheckOptions): Promise<ChainRevocationResult> {
  const started = performance.now();
  try {
    return await checkChain(chainPem, opts);
  } catch (err) {
    // Per-URL failures are contained where they happen (contained(), the issuer fetches); this is the last
    // resort for a bug in the path building itself, which must still not reject the whole diagnosis.
    return { ok: false, ...(opts.subject !== undefined ? { subject: opts.subject } : {}), seconds: Math.round(performance.now() - started) / 1000,
      certificates: [], issuerFetches: [], error: { code: 'PARSE_ERROR', message: `unreadable answer: ${(err as Error).message.slice(0, 200)}` } };
  }
}

async function checkChain(chainPem: readonly string[], opts: RevocationCheckOptions): Promise<ChainRevocationResult> {
  const started = performance.now();
  const seconds = (): number => Math.round(performance.now() - started) / 1000;
  const subject = opts.subject !== undefined ? { subject: opts.subject } : {};
  let certs: Known[];
  let pool: SubjectIndex;
  try {
    certs = pemBlocks(chainPem).map((der) => known(der));
    pool = indexBySubject([...certs, ...pemBlocks(opts.extraCertificatesPem ?? []).map((der) => known(der))]);
  } catch (err) {
    return { ok: false, ...subject, seconds: seconds(), certificates: [], issuerFetches: [],
      error: { code: 'PARSE_ERROR', message: `unreadable certificate: ${(err as Error).message.slice(0, 200)}` } };
  }
  const leaf = certs[0];
  if (!leaf) {
    return { ok: false, ...subject, seconds: seconds(), certificates: [], issuerFetches: [],
      error: { code: 'PARSE_ERROR', message: 'no certificate in the chain' } };
  }
  const remaining = (): number => remainingMs(started, opts.timeoutMs);
  // Fetches get the caller's signal and the remaining time: running out of time is then a timeout (REV-002), not an abort.
  const fetchBase = { guard: opts.guard, signal: opts.signal, ...(opts.resolve ? { resolve: opts.resolve } : {}),
    ...(opts.cache ? { cache: opts.cache } : {}) };
  const now = opts.now ?? (() => new Date(opts.cache?.now() ?? Date.now()));

  // Build the path leaf -> root, fetching issuers the server did not send.
  const path: Array<{ cert: Known; issuer?: Known; source: CertificateRevocation['issuerSource'];
    issuerIsRoot?: boolean }> = [];
  const issuerFetches: IssuerFetch[] = [];
  let current: Known | undefined = leaf;
  while (current && path.length < 8) {
    const cert: Known = current;
    if (cert.subject === cert.issuer && issues(cert, cert)) {
      path.push({ cert, source: 'self' });
      break;
    }
    let issuer: Known | undefined;
    const issuerName = cert.issuer;
    let candidates = pool.get(issuerName) ?? [];
    if (candidates.length === 0 && (opts.systemRoots ?? true)) candidates = systemIssuers(cert);
    for (const candidate of candidates) {
      if (candidate !== cert && issues(candidate, cert)) {
        issuer = candidate;
        break;
      }
    }
    let source: CertificateRevocation['issuerSource'] = issuer ? 'chain' : 'missing';
    if (!issuer && (opts.fetchMissingIssuers ?? true)) {
      for (const url of cert.info.caIssuersUrls.filter((u) => schemeOf(u) === 'http')) {
        const fetchStarted = performance.now();
        try {
          const got = await fetchIssuers(url, { ...fetchBase, timeoutMs: remaining() });
          const { certs: fetched, ...record } = got;
          issuerFetches.push(record);
          for (const fetchedCert of fetched) {
            const candidate = known(Buffer.from(fetchedCert.rawData), fetchedCert);
            if (issues(candidate, cert)) {
              issuer = candidate;
              source = 'aia';
              indexBySubject([candidate], pool);
              break;
            }
          }
        } catch (err) {
          // An issuer certificate that cannot be read spoils this fetch only: the path stops here as 'missing'.
          issuerFetches.push({ url, ok: false, cached: false, seconds: (performance.now() - fetchStarted) / 1000, subjects: [], error: unreadable(err) });
        }
        if (issuer) break;
      }
    }
    const issuerIsRoot = issuer ? issuer.subject === issuer.issuer && issues(issuer, issuer) : undefined;
    path.push({ cert, ...(issuer ? { issuer } : {}), source, ...(issuerIsRoot !== undefined ? { issuerIsRoot } : {}) });
    current = issuer;
  }

  const certificates = await Promise.all(path.map(async ({ cert: k, issuer: ik, source, issuerIsRoot }, position): Promise<CertificateRevocation> => {
    const info = k.info;
    const cert = k.cert;
    const issuer = ik?.cert;
    const unsupportedUrls = [...info.crlUrls, ...info.ocspUrls].filter((u) => schemeOf(u) !== 'http');
    const base = {
      position, subject: k.subject, issuer: k.issuer, serial: k.serial, notAfter: k.notAfter,
      selfSigned: source === 'self', info, issuerSource: source, ...(issuerIsRoot !== undefined ? { issuerIsRoot } : {}), unsupportedUrls,
    };
    if (!issuer || !ik) return { ...base, crl: [], ocsp: [], status: 'unchecked' };
    const issuerKeyId = ik.keyId;
    const common = { ...fetchBase, timeoutMs: remaining(), now };
    const ocspMethod = opts.ocspMethod === 'GET' ? 'GET' : 'POST';
    const [crl, ocsp] = await Promise.all([
      Promise.all(info.crlUrls.filter((u) => schemeOf(u) === 'http').map((url) => contained(
        () => checkCrl(url, cert, issuer, issuerKeyId, { ...common, ...(opts.maxCrlBytes ? { maxBytes: opts.maxCrlBytes } : {}) }),
        (error): CrlCheck => ({ kind: 'crl', url, ok: false, cached: false, seconds: 0, error })))),
      Promise.all(info.ocspUrls.filter((u) => schemeOf(u) === 'http').map((url) => contained(
        () => checkOcsp(url, cert, issuer, issuerKeyId, { ...common, ...(opts.maxOcspBytes ? { maxBytes: opts.maxOcspBytes } : {}),
          ...(opts.ocspMethod ? { method: opts.ocspMethod } : {}), ...(opts.ocspNonce !== undefined ? { nonce: opts.ocspNonce } : {}) }),
        (error): OcspCheck => ({ kind: 'ocsp', url, method: ocspMethod, ok: false, cached: false, seconds: 0, error })))),
    ]);
    return { ...base, crl, ocsp, ...aggregate(crl, ocsp) };
  }));

  const ok = certificates.every((c) => c.selfSigned || c.status === 'good');
  return { ok, ...subject, seconds: seconds(), certificates, issuerFetches };
}

/** A status only counts when its signature verified. */
function aggregate(crl: readonly CrlCheck[], ocsp: readonly OcspCheck[]): Pick<CertificateRevocation, 'status' | 'revocation'> {
  for (const c of crl) {
    if (c.signature === 'valid' && c.status === 'revoked') {
      return { status: 'revoked', revocation: { reason: c.reason ?? 'unspecified', date: c.revocationDate ?? '', source: 'crl' } };
    }
  }
  for (const o of ocsp) {
    if (o.signature === 'valid' && o.status === 'revoked') {
      return { status: 'revoked', revocation: { reason: o.reason ?? 'unspecified', date: o.revocationDate ?? '', source: 'ocsp' } };
    }
  }
  if ([...crl, ...ocsp].some((c) => c.ok && c.status === 'good')) return { status: 'good' };
  if (ocsp.some((o) => o.ok && o.status === 'unknown')) return { status: 'unknown' };
  return { status: 'unchecked' };
}

export interface EndpointProbeOptions {
  readonly resolve: HostResolver | ((host: string) => Promise<{ addresses: readonly string[]; error?: { code: string; message: string } }>);
  readonly guard: AddressGuard;
  /** Per URL, ms. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Trust anchors for https URLs (PEM). Default: Node's bundled root store. */
  readonly tlsCa?: readonly string[];
  /** The clock CRL freshness is judged by. Default: the wall clock. */
  readonly now?: () => Date;
  /** Largest CRL read, bytes. Default DEFAULT_MAX_CRL_BYTES (8 MiB). */
  readonly maxCrlBytes?: number;
}

/** What an endpoint is expected to serve: a CRL, an OCSP responder, CA certificates (AIA), or something else. */
export type EndpointKind = 'crl' | 'ocsp' | 'aia' | 'other';

/** What proved the CA's service answered. */
export type EndpointService =
  | { readonly kind: 'crl'; readonly issuer: string; readonly thisUpdate: string; readonly nextUpdate?: string;
      readonly freshness: Freshness; readonly bytes: number }
  | { readonly kind: 'ocsp'; readonly responseStatus: string }
  | { readonly kind: 'aia'; readonly subjects: readonly string[] }
  | { readonly kind: 'other'; readonly status: number; readonly contentType: string; readonly bytes: number };

export interface EndpointReachability {
  readonly url: string;
  readonly kind: EndpointKind;
  readonly host: string;
  /**
   * The CA's service answered: a CRL URL gave a CRL (DER or PEM), an OCSP URL gave an OCSP response,
   * a CA-issuers URL gave certificates; for other URLs, a 2xx answer that is not an HTML page.
   */
  readonly ok: boolean;
  readonly seconds: number;
  readonly dns?: FetchPhases['dns'];
  readonly tcp?: FetchPhases['tcp'];
  readonly tls?: FetchPhases['tls'];
  readonly http?: FetchPhases['http'];
  /** What proved the service (when ok). */
  readonly service?: EndpointService;
  /** What answered instead (when something answered but it was not the service): status, type, first bytes, redirects, certificate. */
  readonly answer?: AnswerEvidence;
  readonly error?: CheckError;
}

/** The kind of a URL, from its path (a .crl file, a certificate) or its name (an OCSP responder). */
export function endpointKind(url: string): EndpointKind {
  let path = '';
  let host = '';
  try {
    const u = new URL(url);
    path = decodeURIComponent(u.pathname).toLowerCase();
    host = u.hostname.toLowerCase();
  } catch {
    return 'other';
  }
  if (path.endsWith('.crl')) return 'crl';
  if (/\.(?:crt|cer|der|p7c|p7b)$/.test(path)) return 'aia';
  if (/ocsp/.test(host) || /ocsp/.test(path)) return 'ocsp';
  if (/crl/.test(host) || /\/crl\b/.test(path)) return 'crl';
  return 'other';
}

const MAX_BYTES: Readonly<Record<Exclude<EndpointKind, 'crl'>, number>> = {
  ocsp: DEFAULT_MAX_OCSP_BYTES, aia: DEFAULT_MAX_CERT_BYTES, other: 64 * 1024,
};

type Judgement = { ok: true; service: EndpointService } | { ok: false; error: CheckError };

/** Whether a 2xx answer is the service the URL's kind promises. */
function judge(kind: EndpointKind, res: Extract<FetchResult, { ok: true }>, now: Date): Judgement {
  const { body } = res;
  const type = res.contentType ? `${res.contentType}, ` : '';
  const seen = `HTTP ${res.status} (${type}${body.length} bytes): "${textPreview(body)}"`;
  switch (kind) {
    case 'crl': {
      const crl = parseCrl(body);
      if (typeof crl === 'string') return { ok: false, error: { code: 'PARSE_ERROR', message: `${crl}; the answer was ${seen}` } };
      const nextUpdate = crl.nextUpdate;
      return { ok: true, service: { kind: 'crl', issuer: crl.issuer, thisUpdate: crl.thisUpdate.toISOString(),
        ...(nextUpdate ? { nextUpdate: nextUpdate.toISOString() } : {}), freshness: freshness(crl.thisUpdate, nextUpdate, now), bytes: body.length } };
    }
    case 'ocsp': {
      const reading = readOcspResponse(body);
      if (!reading.ok) {
        return { ok: false, error: { code: reading.responseStatus ? 'OCSP_STATUS' : 'PARSE_ERROR', message: `${reading.reason}; the answer was ${seen}` } };
      }
      return { ok: true, service: { kind: 'ocsp', responseStatus: reading.responseStatus } };
    }
    case 'aia': {
      const certs = parseCertificates(body);
      if (typeof certs === 'string' || certs.length === 0) {
        return { ok: false, error: { code: 'PARSE_ERROR', message: `not a certificate (${typeof certs === 'string' ? certs : 'empty bundle'}); the answer was ${seen}` } };
      }
      return { ok: true, service: { kind: 'aia', subjects: certs.map((c) => c.subject) } };
    }
    default: {
      // A URL that does not say what it serves: its answer must still prove a service (a CRL or
      // certificates); "something answered" is not the CA's service.
      const asCrl = judge('crl', res, now);
      if (asCrl.ok) return asCrl;
      const asCerts = judge('aia', res, now);
      if (asCerts.ok) return asCerts;
      return { ok: false, error: { code: 'PARSE_ERROR', message: `the answer is neither a CRL nor a certificate, so no revocation service is proven; `
        + `the answer was ${seen} (a URL ending in .crl is read as a CRL; one with "ocsp" in its host or path is asked an OCSP request)` } };
    }
  }
}

/**
 * Fetches one endpoint (socket work only) and gives back the reading of its answer to run later: parsing a
 * CRL is CPU work, which must not sit inside the DNS, TCP and HTTP timings of the URLs still being fetched.
 */
async function fetchEndpoint(url: string, opts: EndpointProbeOptions, resolver: HostResolver): Promise<() => EndpointReachability> {
  const started = performance.now();
  const kind = endpointKind(url);
  let host = '';
  try {
    host = new URL(url).hostname;
  } catch {
    host = '';
  }
  // What one endpoint sent spoils its own line only.
  const failed = (err: unknown): EndpointReachability => ({ url, kind, host, ok: false, seconds: (performance.now() - started) / 1000, error: unreadable(err) });
  try {
    // OCSP URLs get a real OCSP request (POST, RFC 6960 A.1); the others a GET of the resource.
    const request = kind === 'ocsp'
      ? { method: 'POST' as const, body: PROBE_OCSP_REQUEST, headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' } }
      : { method: 'GET' as const };
    const res = await boundedFetch(url, { guard: opts.guard, timeoutMs: opts.timeoutMs, signal: opts.signal, resolve: resolver,
      maxBytes: kind === 'crl' ? opts.maxCrlBytes ?? DEFAULT_MAX_CRL_BYTES : MAX_BYTES[kind], ...request,
      ...(opts.tlsCa ? { tlsCa: opts.tlsCa } : {}) });
    const { phases } = res;
    const base = {
      url, kind, host, seconds: res.seconds,
      ...(phases.dns ? { dns: phases.dns } : {}), ...(phases.tcp ? { tcp: phases.tcp } : {}),
      ...(phases.tls ? { tls: phases.tls } : {}), ...(phases.http ? { http: phases.http } : {}),
    };
    if (!res.ok) return () => ({ ...base, ok: false, ...(res.answer ? { answer: res.answer } : {}), error: { code: res.code, message: res.message } });
    return () => {
      try {
        const verdict = judge(kind, res, opts.now?.() ?? new Date());
        if (verdict.ok) return { ...base, ok: true, service: verdict.service, ...(res.redirects ? { answer: { redirects: res.redirects } } : {}) };
        return { ...base, ok: false, error: verdict.error,
          answer: { status: res.status, ...(res.contentType ? { contentType: res.contentType } : {}), bytes: res.body.length,
            ...(res.body.length ? { firstBytes: textPreview(res.body) } : {}), ...(res.redirects ? { redirects: res.redirects } : {}) } };
      } catch (err) {
        return { ...failed(err), seconds: res.seconds };
      }
    };
  } catch (err) {
    const line = failed(err);
    return () => line;
  }
}

/**
 * Whether each URL is served by the CA's service: a CRL URL must answer with a CRL, an OCSP URL with an
 * OCSP response to a real OCSP request. Otherwise the result says what answered instead. The URLs are
 * fetched concurrently and their answers read once all have arrived. Never throws.
 */
export async function checkRevocationEndpoints(urls: readonly string[], opts: EndpointProbeOptions): Promise<EndpointReachability[]> {
  const resolver: HostResolver = (host, o) => (opts.resolve as HostResolver)(host, o);
  const readings = await Promise.all(urls.map((url) => fetchEndpoint(url, opts, resolver)));
  return readings.map((read) => read());
}

/** The `revocation` section of the report: chain checks and platform endpoint reachability. */
