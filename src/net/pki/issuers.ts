// CA-issuer certificates (AIA caIssuers): DER, PEM or a PKCS#7 certs-only
// bundle (.p7c), fetched with the same bounds and cached.
import { CERT_PARSE_OPTIONS, derItem, derProblem, errorLine, MAX_BUNDLE_NODES, ParsedCertificate, x509 } from './crypto.js';
import { boundedFetch, type FetchOptions } from './http.js';
import type { RevocationCache } from './cache.js';
import type { CheckError } from './types.js';

export const DEFAULT_MAX_CERT_BYTES = 256 * 1024;

export interface IssuerFetch {
  readonly url: string;
  readonly ok: boolean;
  readonly cached: boolean;
  readonly seconds: number;
  /** Subjects of the certificates obtained. */
  readonly subjects: readonly string[];
  readonly error?: CheckError;
}

/**
 * The certificates in a CA-issuer answer: PEM, one DER certificate, or a PKCS#7 certs-only bundle.
 * Every certificate returned has its fields decoded (a ParsedCertificate); a message instead when
 * the body is none of these. Never throws.
 */
export function parseCertificates(body: Buffer): x509.X509Certificate[] | string {
  const text = body.subarray(0, 64).toString('latin1');
  try {
    if (text.includes('-----BEGIN CERTIFICATE-----')) {
      return x509.PemConverter.decode(body.toString('latin1')).map((der) => new ParsedCertificate(der));
    }
    if (body[0] !== 0x30) return 'neither DER nor PEM';
    if (!isSignedData(body)) return [new ParsedCertificate(body)];
    // A bundle holds a few certificates.
    const problem = derProblem(body, MAX_BUNDLE_NODES);
    if (problem) return problem;
    return [...new x509.X509Certificates(body, CERT_PARSE_OPTIONS)].map((c) => new ParsedCertificate(c.rawData));
  } catch (err) {
    return errorLine(err);
  }
}

/** PKCS#7 signedData (1.2.840.113549.1.7.2), DER: a ContentInfo SEQUENCE whose first item is that OID. */
const SIGNED_DATA_OID = Buffer.from('06092a864886f70d010702', 'hex');

function isSignedData(body: Buffer): boolean {
  const outer = derItem(body, 0, body.length);
  return outer !== undefined && body.subarray(outer.contentAt, outer.contentAt + SIGNED_DATA_OID.length).equals(SIGNED_DATA_OID);
}

export interface IssuerFetchOptions extends Omit<FetchOptions, 'maxBytes' | 'method' | 'body'> {
  readonly cache?: RevocationCache;
  readonly maxBytes?: number;
}

export async function fetchIssuers(url: string, opts: IssuerFetchOptions): Promise<IssuerFetch & { certs: x509.X509Certificate[] }> {
  const started = performance.now();
  const key = `aia ${url}`;
  const hit = opts.cache?.get<x509.X509Certificate[]>(key);
  if (hit) return { url, ok: true, cached: true, seconds: (performance.now() - started) / 1000, subjects: hit.map((c) => c.subject), certs: hit };
  const res = await boundedFetch(url, { ...opts, maxBytes: opts.maxBytes ?? DEFAULT_MAX_CERT_BYTES, method: 'GET' });
  const seconds = (performance.now() - started) / 1000;
  if (!res.ok) return { url, ok: false, cached: false, seconds, subjects: [], certs: [], error: { code: res.code, message: res.message } };
  const certs = parseCertificates(res.body);
  if (typeof certs === 'string' || certs.length === 0) {
    return { url, ok: false, cached: false, seconds, subjects: [], certs: [],
      error: { code: 'PARSE_ERROR', message: `not a certificate (${typeof certs === 'string' ? certs : 'empty bundle'})` } };
  }
  opts.cache?.set(key, certs);
  return { url, ok: true, cached: false, seconds, subjects: certs.map((c) => c.subject), certs };
}
