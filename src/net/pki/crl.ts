// CRLs: fetch (DER or PEM), verify against the issuer, check freshness, look
// a serial up. Parsed CRLs are cached by URL until nextUpdate.
import type { CertificateList } from '@peculiar/asn1-x509';
import { SIGNATURE_ALGORITHMS, verifySignature, x509 } from './crypto.js';
import { boundedFetch, type FetchOptions } from './http.js';
import type { RevocationCache } from './cache.js';
import type { CrlCheck, Freshness } from './types.js';

export const DEFAULT_MAX_CRL_BYTES = 8 * 1024 * 1024;
/** Clock skew tolerated on thisUpdate / nextUpdate. */
export const SKEW_MS = 5 * 60_000;

export const REASON_NAMES: Readonly<Record<number, string>> = {
  0: 'unspecified', 1: 'keyCompromise', 2: 'cACompromise', 3: 'affiliationChanged', 4: 'superseded',
  5: 'cessationOfOperation', 6: 'certificateHold', 8: 'removeFromCRL', 9: 'privilegeWithdrawn', 10: 'aACompromise',
};

export function reasonName(code: number | undefined): string {
  return code === undefined ? 'unspecified' : REASON_NAMES[code] ?? `reason-${code}`;
}

export function freshness(thisUpdate: Date, nextUpdate: Date | undefined, now: Date): Freshness {
  if (thisUpdate.getTime() > now.getTime() + SKEW_MS) return 'not-yet-valid';
  if (nextUpdate && nextUpdate.getTime() < now.getTime() - SKEW_MS) return 'stale';
  return 'fresh';
}

const PEM_CRL = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+)-----END X509 CRL-----/;

/** Parses a DER or PEM CRL; a message instead when the bytes are not one. */
export function parseCrl(body: Buffer): x509.X509Crl | string {
  let der: Buffer = body;
  if (body[0] !== 0x30) {
    const m = PEM_CRL.exec(body.subarray(0, 64).toString('latin1').includes('-----BEGIN') ? body.toString('latin1') : '');
    if (!m?.[1]) return `not a CRL (neither DER nor PEM; starts with ${JSON.stringify(body.subarray(0, 16).toString('latin1'))})`;
    der = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  }
  try {
    const crl = new ParsedCrl(der);
    void crl.thisUpdate; // forces the TBS to decode
    return crl;
  } catch (err) {
    return `not a CRL (${(err as Error).message.slice(0, 200)})`;
  }
}

/** @peculiar/x509's CRL with the ASN.1 structure it parsed within reach (a protected member there). */
class ParsedCrl extends x509.X509Crl {
  get structure(): CertificateList {
    return this.asn;
  }
}

/**
 * Whether `issuer` signed the CRL: OpenSSL checks the signature over the TBS bytes as received
 * (@peculiar's verify goes through WebCrypto in JavaScript); algorithms outside the table fall back to it.
 */
async function crlSignedBy(crl: x509.X509Crl, issuer: x509.X509Certificate): Promise<boolean> {
  const structure = crl instanceof ParsedCrl ? crl.structure : undefined;
  const algorithm = structure?.signatureAlgorithm.algorithm;
  if (structure?.tbsCertListRaw && algorithm && SIGNATURE_ALGORITHMS[algorithm]) {
    return verifySignature(algorithm, structure.tbsCertListRaw, structure.signature, issuer.publicKey.rawData);
  }
  return crl.verify({ publicKey: issuer });
}

interface CachedCrl {
  readonly crl: x509.X509Crl;
  readonly bytes: number;
  /** Signature verdict per issuer key (hex SPKI SHA-1) already computed. */
  readonly verified: Map<string, boolean>;
}

export interface CrlCheckOptions extends Omit<FetchOptions, 'maxBytes' | 'method' | 'body'> {
  readonly cache?: RevocationCache;
  readonly now?: () => Date;
  readonly maxBytes?: number;
}

/** Fetches (or takes from the cache) the CRL at `url` and answers for `cert`, issued by `issuer`. Never throws. */
export async function checkCrl(url: string, cert: x509.X509Certificate, issuer: x509.X509Certificate, issuerKeyId: string,
  opts: CrlCheckOptions): Promise<CrlCheck> {
  const started = performance.now();
  const now = opts.now ?? (() => new Date(opts.cache?.now() ?? Date.now()));
  const key = `crl ${url}`;
  let entry = opts.cache?.get<CachedCrl>(key);
  const cached = entry !== undefined;
  let base: Pick<CrlCheck, 'httpStatus' | 'bytes' | 'phases'> = {};
  if (!entry) {
    const load = (): Promise<Loaded> => loadCrl(url, key, opts);
    const loaded = await (opts.cache ? opts.cache.coalesce(key, load) : load());
    const seconds = (performance.now() - started) / 1000;
    if ('failure' in loaded) return { ...loaded.failure, seconds };
    entry = loaded.entry;
    base = loaded.base;
  }
  const crl = entry.crl;
  const common = {
    kind: 'crl' as const, url, cached, ...base, bytes: entry.bytes,
    thisUpdate: crl.thisUpdate.toISOString(), ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate.toISOString() } : {}),
  };
  if (!crl.issuerName.toString() || crl.issuer !== issuer.subject) {
    return { ...common, ok: false, seconds: (performance.now() - started) / 1000,
      error: { code: 'WRONG_ISSUER', message: `the CRL is issued by "${crl.issuer}", not by "${issuer.subject}"` } };
  }
  let valid = entry.verified.get(issuerKeyId);
  if (valid === undefined) {
    try {
      valid = await crlSignedBy(crl, issuer);
    } catch {
      valid = false;
    }
    entry.verified.set(issuerKeyId, valid);
  }
  const fresh = freshness(crl.thisUpdate, crl.nextUpdate, now());
  let revokedEntry: x509.X509CrlEntry | null = null;
  try {
    revokedEntry = crl.findRevoked(cert.serialNumber);
  } catch {
    revokedEntry = null;
  }
  let entries: number | undefined;
  try {
    entries = crl.entries.length;
  } catch {
    entries = undefined;
  }
  return {
    ...common, ok: valid && fresh === 'fresh', seconds: (performance.now() - started) / 1000,
    signature: valid ? 'valid' : 'invalid', freshness: fresh, ...(entries !== undefined ? { entries } : {}),
    status: revokedEntry ? 'revoked' : 'good',
    ...(revokedEntry ? { reason: reasonName(revokedEntry.reason), revocationDate: revokedEntry.revocationDate.toISOString() } : {}),
  };
}

type Loaded =
  | { failure: CrlCheck }
  | { entry: CachedCrl; base: Pick<CrlCheck, 'httpStatus' | 'bytes' | 'phases'> };

async function loadCrl(url: string, key: string, opts: CrlCheckOptions): Promise<Loaded> {
  const res = await boundedFetch(url, { ...opts, maxBytes: opts.maxBytes ?? DEFAULT_MAX_CRL_BYTES, method: 'GET' });
  if (!res.ok) {
    return { failure: { kind: 'crl', url, ok: false, cached: false, seconds: res.seconds, phases: res.phases,
      ...(res.status !== undefined ? { httpStatus: res.status } : {}), error: { code: res.code, message: res.message } } };
  }
  const base = { httpStatus: res.status, bytes: res.body.length, phases: res.phases };
  const parsed = parseCrl(res.body);
  if (typeof parsed === 'string') {
    return { failure: { kind: 'crl', url, ok: false, cached: false, seconds: res.seconds, ...base,
      error: { code: 'PARSE_ERROR', message: `${parsed}; content-type ${JSON.stringify(res.contentType.slice(0, 80))}` } } };
  }
  const entry: CachedCrl = { crl: parsed, bytes: res.body.length, verified: new Map() };
  opts.cache?.set(key, entry, parsed.nextUpdate);
  return { entry, base };
}
