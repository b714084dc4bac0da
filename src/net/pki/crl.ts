// CRLs: fetch (DER or PEM), verify against the issuer, check freshness, look
// a serial up. Parsed CRLs are cached by URL until nextUpdate.
import type { CertificateList } from '@peculiar/asn1-x509';
import { derItem, derProblem, normaliseSerial, parseOptions, SIGNATURE_ALGORITHMS, verifySignature, x509 } from './crypto.js';
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

/**
 * A CRL is parsed in two parts. Its frame (issuer, dates, extensions, signature) goes to the ASN.1
 * library without the list of revoked certificates; the list is only walked here, to count it and to
 * find one serial, and the entry found is the only one decoded. The library spends some 100 µs per
 * entry (a CRL of 40,000 entries took 5 s) and by default stopped at 10,000 items, so a CRL of more
 * than about 1,400 entries was "not a CRL".
 */
const CRL_FRAME_OPTIONS = parseOptions(4096);
/** For an algorithm verified through WebCrypto only: the whole CRL decoded, bounded by the byte cap. */
const CRL_FULL_OPTIONS = parseOptions(Number.MAX_SAFE_INTEGER);
/** Entries of a CRL decoded whole for such an algorithm (some 100 µs each). */
const MAX_FULLY_DECODED_ENTRIES = 2000;

const PEM_CRL = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+)-----END X509 CRL-----/;

/** Parses a DER or PEM CRL; a message instead when the bytes are not one. Never throws. */
export function parseCrl(body: Buffer): x509.X509Crl | string {
  let der: Buffer = body;
  if (body[0] !== 0x30) {
    const m = PEM_CRL.exec(body.subarray(0, 64).toString('latin1').includes('-----BEGIN') ? body.toString('latin1') : '');
    if (!m?.[1]) return `not a CRL (neither DER nor PEM; starts with ${JSON.stringify(body.subarray(0, 16).toString('latin1'))})`;
    der = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  }
  const layout = crlLayout(der);
  if (typeof layout === 'string') return `not a CRL (${layout})`;
  const problem = derProblem(layout.frame, 4096);
  if (problem) return `not a CRL (${problem})`;
  let crl: ParsedCrl;
  try {
    crl = new ParsedCrl(der, layout);
  } catch (err) {
    return `not a CRL (${errorText(err)})`;
  }
  // The issuer and dates decode lazily: read them now, so a CRL that cannot give them is refused here.
  const head = crlHead(crl);
  return typeof head === 'string' ? `not a CRL (${head})` : crl;
}

interface CrlLayout {
  /** The CRL re-encoded without its revokedCertificates (what the library parses). */
  readonly frame: Buffer;
  /** The TBSCertList as received (what the signature is over). */
  readonly tbs: Buffer;
  /** The revoked certificates, each as received. */
  readonly entries: readonly Buffer[];
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const wrap = (tag: number, parts: readonly Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
};

/**
 * Splits a DER CRL (RFC 5280 5.1): CertificateList { TBSCertList { version?, signature, issuer,
 * thisUpdate, nextUpdate?, revokedCertificates?, [0] crlExtensions? }, signatureAlgorithm,
 * signatureValue }. Checks each revoked entry's outline (a SEQUENCE starting with an INTEGER).
 */
function crlLayout(der: Buffer): CrlLayout | string {
  const outer = derItem(der, 0, der.length);
  if (!outer || outer.tag !== 0x30) return 'not a DER SEQUENCE';
  if (outer.end !== der.length) return `${der.length - outer.end} bytes after the CRL`;
  const tbs = derItem(der, outer.contentAt, outer.end);
  if (!tbs || tbs.tag !== 0x30) return 'no TBSCertList';
  const fields: { tag: number; at: number; end: number; contentAt: number }[] = [];
  for (let at = tbs.contentAt; at < tbs.end;) {
    const item = derItem(der, at, tbs.end);
    if (!item) return `malformed TBSCertList field at byte ${at}`;
    fields.push({ ...item, at });
    at = item.end;
  }
  // revokedCertificates is the SEQUENCE that follows the dates (UTCTime 0x17 / GeneralizedTime 0x18).
  let list = -1;
  for (let i = 1; i < fields.length; i++) {
    const prev = fields[i - 1];
    if (fields[i]?.tag === 0x30 && (prev?.tag === 0x17 || prev?.tag === 0x18)) {
      list = i;
      break;
    }
  }
  const entries: Buffer[] = [];
  const listField = fields[list];
  if (listField) {
    for (let at = listField.contentAt; at < listField.end;) {
      const entry = derItem(der, at, listField.end);
      const serial = entry && derItem(der, entry.contentAt, entry.end);
      if (!entry || entry.tag !== 0x30 || !serial || serial.tag !== 0x02) return `malformed revoked certificate entry ${entries.length + 1}`;
      entries.push(der.subarray(at, entry.end));
      at = entry.end;
    }
  }
  const kept = fields.filter((_, i) => i !== list).map((f) => der.subarray(f.at, f.end));
  const rest: Buffer[] = [];
  for (let at = tbs.end; at < outer.end;) {
    const item = derItem(der, at, outer.end);
    if (!item) return `malformed CRL field at byte ${at}`;
    rest.push(der.subarray(at, item.end));
    at = item.end;
  }
  return { frame: wrap(0x30, [wrap(0x30, kept), ...rest]), tbs: der.subarray(outer.contentAt, tbs.end), entries };
}

/**
 * @peculiar/x509's CRL, parsed from its frame (see crlLayout), with the ASN.1 structure within
 * reach, the TBS bytes as received, and the revoked entries looked up without decoding them all.
 */
class ParsedCrl extends x509.X509Crl {
  private readonly original: Buffer;
  private readonly layout: CrlLayout;

  constructor(der: Buffer, layout: CrlLayout) {
    super(layout.frame, CRL_FRAME_OPTIONS);
    this.original = der;
    this.layout = layout;
  }

  get structure(): CertificateList {
    return this.asn;
  }

  override get rawData(): ArrayBuffer {
    return new Uint8Array(this.original).buffer;
  }

  /** The TBSCertList as received. */
  get tbsRaw(): Buffer {
    return this.layout.tbs;
  }

  get entryCount(): number {
    return this.layout.entries.length;
  }

  override get entries(): readonly x509.X509CrlEntry[] {
    return this.layout.entries.map((e) => new x509.X509CrlEntry(e, CRL_FULL_OPTIONS));
  }

  /** The entry of a serial (hex), as received; undefined when it is not listed. Compares bytes, leading zeros aside. */
  rawEntry(serialHex: string): Buffer | undefined {
    const wanted = Buffer.from(normaliseSerial(serialHex), 'hex');
    for (const raw of this.layout.entries) {
      const entry = derItem(raw, 0, raw.length);
      const serial = entry && derItem(raw, entry.contentAt, entry.end);
      if (!serial) continue;
      let at = serial.contentAt;
      while (at < serial.end - 1 && raw[at] === 0) at++;
      if (serial.end - at === wanted.length && raw.compare(wanted, 0, wanted.length, at, serial.end) === 0) return raw;
    }
    return undefined;
  }

  /** The entry of a serial (hex, or a certificate's), decoded; null when it is not listed. */
  override findRevoked(certOrSerialNumber: x509.X509Certificate | string): x509.X509CrlEntry | null {
    const raw = this.rawEntry(typeof certOrSerialNumber === 'string' ? certOrSerialNumber : certOrSerialNumber.serialNumber);
    return raw ? new x509.X509CrlEntry(raw, CRL_FULL_OPTIONS) : null;
  }

  /** The whole CRL decoded by the library (for its own verify). */
  full(): x509.X509Crl {
    return new x509.X509Crl(this.original, CRL_FULL_OPTIONS);
  }
}

/**
 * Whether `issuer` signed the CRL: OpenSSL checks the signature over the TBS bytes as received
 * (@peculiar's verify goes through WebCrypto in JavaScript); algorithms outside the table fall back to it.
 */
async function crlSignedBy(crl: x509.X509Crl, issuer: x509.X509Certificate): Promise<boolean> {
  if (crl instanceof ParsedCrl) {
    const algorithm = crl.structure.signatureAlgorithm.algorithm;
    if (SIGNATURE_ALGORITHMS[algorithm]) return verifySignature(algorithm, crl.tbsRaw, crl.structure.signature, issuer.publicKey.rawData);
    // Other algorithms (RSA-PSS, EdDSA: rare for CRLs) go through the library, which decodes the whole
    // CRL first: only for a CRL small enough that a chosen algorithm cannot make that a CPU sink.
    return crl.entryCount <= MAX_FULLY_DECODED_ENTRIES ? crl.full().verify({ publicKey: issuer }) : false;
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
  const verdict = await evaluateCrl(entry.crl, cert, issuer, issuerKeyId, { now: now(), verified: entry.verified });
  return { kind: 'crl', url, cached, ...base, bytes: entry.bytes, ...verdict, seconds: (performance.now() - started) / 1000 };
}

export type CrlVerdict = Omit<CrlCheck, 'kind' | 'url' | 'cached' | 'seconds' | 'httpStatus' | 'bytes' | 'phases'>;

export interface CrlEvaluationOptions {
  readonly now: Date;
  /** Signature verdicts per issuer key id already computed for this CRL (filled in). */
  readonly verified?: Map<string, boolean>;
}

/**
 * Judges a CRL parsed by parseCrl() for `cert`, issued by `issuer`: issuer name, signature,
 * freshness, and the certificate's entry. Never throws: a listed serial whose entry cannot be
 * read further (its reason or date malformed) is still revoked, with what could be read.
 */
export async function evaluateCrl(crl: x509.X509Crl, cert: x509.X509Certificate, issuer: x509.X509Certificate, issuerKeyId: string,
  opts: CrlEvaluationOptions): Promise<CrlVerdict> {
  const head = crlHead(crl);
  if (typeof head === 'string') return { ok: false, error: { code: 'PARSE_ERROR', message: `not a CRL (${head})` } };
  const common = { thisUpdate: head.thisUpdate.toISOString(), ...(head.nextUpdate ? { nextUpdate: head.nextUpdate.toISOString() } : {}) };
  if (!head.issuer || head.issuer !== issuer.subject) {
    return { ...common, ok: false,
      error: { code: 'WRONG_ISSUER', message: `the CRL is issued by "${head.issuer.slice(0, 300)}", not by "${issuer.subject}"` } };
  }
  let valid = opts.verified?.get(issuerKeyId);
  if (valid === undefined) {
    try {
      valid = await crlSignedBy(crl, issuer);
    } catch {
      valid = false;
    }
    opts.verified?.set(issuerKeyId, valid);
  }
  const fresh = freshness(head.thisUpdate, head.nextUpdate, opts.now);
  const listed = revokedEntry(crl, cert);
  return {
    ...common, ok: valid && fresh === 'fresh',
    signature: valid ? 'valid' : 'invalid', freshness: fresh, ...(head.entries !== undefined ? { entries: head.entries } : {}),
    status: listed ? 'revoked' : 'good',
    ...(listed ? { reason: listed.reason, ...(listed.revocationDate ? { revocationDate: listed.revocationDate } : {}) } : {}),
  };
}

interface CrlHead {
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly entries: number | undefined;
}

const HEADS = new WeakMap<x509.X509Crl, CrlHead | string>();

/** The CRL's issuer and dates (read once; @peculiar's getters decode lazily and may throw). */
function crlHead(crl: x509.X509Crl): CrlHead | string {
  let head = HEADS.get(crl);
  if (head === undefined) {
    try {
      const thisUpdate = crl.thisUpdate;
      const nextUpdate = crl.nextUpdate;
      if (!validDate(thisUpdate)) throw new Error('thisUpdate is not a valid date');
      head = {
        issuer: crl.issuer, thisUpdate, nextUpdate: validDate(nextUpdate) ? nextUpdate : undefined,
        entries: crl instanceof ParsedCrl ? crl.entryCount : entryCount(crl),
      };
    } catch (err) {
      head = errorText(err);
    }
    HEADS.set(crl, head);
  }
  return head;
}

function entryCount(crl: x509.X509Crl): number | undefined {
  try {
    return crl.entries.length;
  } catch {
    return undefined;
  }
}

const validDate = (d: Date | undefined): d is Date => d instanceof Date && Number.isFinite(d.getTime());

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]?.slice(0, 200) ?? 'unreadable';
}

/** The entry listing `cert`, with its reason and date as far as they can be read; undefined when not listed. */
function revokedEntry(crl: x509.X509Crl, cert: x509.X509Certificate): { reason: string; revocationDate?: string } | undefined {
  let entry: x509.X509CrlEntry | null = null;
  let unreadable = false;
  try {
    if (crl instanceof ParsedCrl) {
      const raw = crl.rawEntry(cert.serialNumber);
      if (!raw) return undefined;
      // Listed: whatever else the entry holds, the certificate is revoked.
      unreadable = true;
      if (derProblem(raw, 256) === undefined) entry = new x509.X509CrlEntry(raw, CRL_FULL_OPTIONS);
    } else {
      entry = crl.findRevoked(cert.serialNumber);
    }
  } catch {
    entry = null;
  }
  if (!entry) return unreadable ? { reason: 'unreadable' } : undefined;
  let reason: string;
  try {
    reason = reasonName(entry.reason);
  } catch {
    reason = 'unreadable';
  }
  let revocationDate: string | undefined;
  try {
    const date = entry.revocationDate;
    revocationDate = validDate(date) ? date.toISOString() : undefined;
  } catch {
    revocationDate = undefined;
  }
  return { reason, ...(revocationDate ? { revocationDate } : {}) };
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
