// OCSP (RFC 6960): build a request with a nonce, send it by GET (appendix A,
// for small requests) or POST, verify the answer's signature (the issuer or a
// delegated responder carrying id-kp-OCSPSigning), freshness and nonce.
import { randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extension as AsnExtension, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse, CertID, OCSPRequest, OCSPResponse, OCSPResponseStatus, Request, TBSRequest,
  id_kp_OCSPSigning, id_pkix_ocsp_basic, id_pkix_ocsp_nonce,
} from '@peculiar/asn1-ocsp';
import { CERT_PARSE_OPTIONS, certParts, derProblem, issuedBy, MAX_OCSP_NODES, keyHash, nativeCert, OID_SHA1, sha1, toBuffer, verifySignature, x509 } from './crypto.js';
import { boundedFetch, type FetchOptions } from './http.js';
import type { RevocationCache } from './cache.js';
import { freshness, reasonName } from './crl.js';
import type { OcspCheck } from './types.js';

export const DEFAULT_MAX_OCSP_BYTES = 64 * 1024;
/** RFC 6960 appendix A: GET is for requests whose encoding is under 255 bytes. */
export const OCSP_GET_LIMIT = 255;

export interface OcspRequestParts {
  readonly der: Buffer;
  readonly certId: CertID;
  /** The nonce sent (the raw bytes inside the OCTET STRING), when one was. */
  readonly nonce?: Buffer;
}

export function certIdFor(cert: x509.X509Certificate, issuer: x509.X509Certificate): CertID {
  const issuerParts = certParts(issuer.rawData);
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA1, parameters: null }),
    issuerNameHash: new OctetString(sha1(issuerParts.subjectDer)),
    issuerKeyHash: new OctetString(keyHash(issuerParts.spkiDer)),
    serialNumber: new Uint8Array(certParts(cert.rawData).serialBytes).buffer,
  });
}

export function buildOcspRequest(cert: x509.X509Certificate, issuer: x509.X509Certificate, opts: { nonce?: boolean } = {}): OcspRequestParts {
  const certId = certIdFor(cert, issuer);
  const nonce = opts.nonce === false ? undefined : randomBytes(16);
  const tbs = new TBSRequest({ requestList: [new Request({ reqCert: certId })] });
  if (nonce) {
    tbs.requestExtensions = [new AsnExtension({
      extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(AsnConvert.serialize(new OctetString(nonce))),
    })];
  }
  const der = Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: tbs })));
  return { der, certId, ...(nonce ? { nonce } : {}) };
}

/** RFC 6960 A.1: the responder URL, a slash, then the URL-encoded base64 of the DER request. */
export function ocspGetUrl(base: string, der: Buffer): string {
  return `${base.endsWith('/') ? base : `${base}/`}${encodeURIComponent(der.toString('base64'))}`;
}

const sameId = (a: CertID, b: CertID): boolean =>
  a.hashAlgorithm.algorithm === b.hashAlgorithm.algorithm
  && toBuffer(a.issuerNameHash.buffer).equals(toBuffer(b.issuerNameHash.buffer))
  && toBuffer(a.issuerKeyHash.buffer).equals(toBuffer(b.issuerKeyHash.buffer))
  && Buffer.from(a.serialNumber).equals(Buffer.from(b.serialNumber));

/** Whether the issuer made this certificate an OCSP signer, memoised per (responder, issuer) pair; validity re-checked each time. */
const DELEGATIONS = new Map<string, { eku: boolean; issued: boolean; subject: string; notBefore: Date; notAfter: Date }>();

function delegation(der: Buffer, issuer: x509.X509Certificate, now: Date): { ok: boolean; detail?: string } {
  const key = `${sha1(der).toString('hex')} ${sha1(toBuffer(issuer.rawData)).toString('hex')}`;
  let d = DELEGATIONS.get(key);
  if (!d) {
    const candidate = nativeCert(der);
    d = candidate
      ? { eku: candidate.keyUsage?.includes(id_kp_OCSPSigning) ?? false, issued: issuedBy(der, issuer.rawData),
        subject: candidate.subject.replace(/\n/g, ', '), notBefore: new Date(candidate.validFrom), notAfter: new Date(candidate.validTo) }
      : { eku: false, issued: false, subject: '(unreadable certificate)', notBefore: new Date(0), notAfter: new Date(0) };
    if (DELEGATIONS.size >= 1024) DELEGATIONS.delete(DELEGATIONS.keys().next().value ?? '');
    DELEGATIONS.set(key, d);
  }
  const inDate = d.notBefore <= now && d.notAfter >= now;
  if (d.eku && d.issued && inDate) return { ok: true };
  return { ok: false, detail: `responder certificate "${d.subject}" is not authorised: `
    + [!d.eku && 'no id-kp-OCSPSigning', !d.issued && 'not issued by the certificate\'s issuer', !inDate && 'outside its validity']
      .filter(Boolean).join(', ') };
}

type Evaluation = Omit<OcspCheck, 'kind' | 'url' | 'cached' | 'seconds' | 'method' | 'httpStatus' | 'bytes' | 'phases'>;

/** Decodes and judges a DER OCSPResponse for one certificate. Never throws. */
export async function evaluateOcspResponse(der: Buffer, expect: {
  readonly certId: CertID; readonly issuer: x509.X509Certificate; readonly nonce?: Buffer; readonly now: Date;
}): Promise<Evaluation & { nextUpdateDate?: Date }> {
  let response: OCSPResponse;
  let basic: BasicOCSPResponse;
  const problem = derProblem(der, MAX_OCSP_NODES);
  if (problem) return { ok: false, error: { code: 'PARSE_ERROR', message: `not an OCSP response (${problem})` } };
  try {
    response = AsnConvert.parse(der, OCSPResponse, CERT_PARSE_OPTIONS);
  } catch (err) {
    return { ok: false, error: { code: 'PARSE_ERROR', message: `not an OCSP response (${(err as Error).message.slice(0, 160)})` } };
  }
  const responseStatus = OCSPResponseStatus[response.responseStatus] ?? `status-${response.responseStatus}`;
  if (response.responseStatus !== OCSPResponseStatus.successful || !response.responseBytes) {
    return { ok: false, responseStatus, error: { code: 'OCSP_STATUS', message: `the responder answered ${responseStatus}` } };
  }
  if (response.responseBytes.responseType !== id_pkix_ocsp_basic) {
    return { ok: false, responseStatus, error: { code: 'PARSE_ERROR', message: `unsupported response type ${response.responseBytes.responseType}` } };
  }
  try {
    basic = AsnConvert.parse(response.responseBytes.response.buffer, BasicOCSPResponse, CERT_PARSE_OPTIONS);
  } catch (err) {
    return { ok: false, responseStatus, error: { code: 'PARSE_ERROR', message: `undecodable BasicOCSPResponse (${(err as Error).message.slice(0, 160)})` } };
  }
  const data = basic.tbsResponseData;
  const single = data.responses.find((r) => sameId(r.certID, expect.certId));
  if (!single) {
    return { ok: false, responseStatus, error: { code: 'OCSP_NO_MATCH', message: 'the response does not answer for the certificate asked about' } };
  }
  const dates: Array<[string, Date | undefined]> = [['thisUpdate', single.thisUpdate], ['nextUpdate', single.nextUpdate], ['producedAt', data.producedAt],
    ['revocationTime', single.certStatus.revoked?.revocationTime]];
  const badDate = dates.find(([name, d]) => (d !== undefined || name === 'thisUpdate' || name === 'producedAt') && !(d instanceof Date && Number.isFinite(d.getTime())));
  if (badDate) return { ok: false, responseStatus, error: { code: 'PARSE_ERROR', message: `the response's ${badDate[0]} is not a valid time` } };

  // Who signed it: the issuer, or a certificate in `certs` the issuer made an OCSP signer.
  const issuerParts = certParts(expect.issuer.rawData);
  const rid = data.responderID;
  // Re-encoding what the library parsed can fail (it reads values it cannot write): no match then.
  const matchesRid = (subjectDer: () => Buffer, spki: SubjectPublicKeyInfo | Buffer): boolean => {
    try {
      return rid.byKey ? keyHash(spki).equals(toBuffer(rid.byKey.buffer))
        : rid.byName ? Buffer.from(AsnConvert.serialize(rid.byName)).equals(subjectDer()) : false;
    } catch {
      return false;
    }
  };
  let signerSpki: Buffer | undefined;
  let signer: OcspCheck['signer'] = 'unauthorised';
  let signatureDetail: string | undefined;
  if (matchesRid(() => issuerParts.subjectDer, issuerParts.spkiDer)) {
    signerSpki = issuerParts.spkiDer;
    signer = 'issuer';
  } else {
    // The certificates come parsed with the response: match on their parts as they are, no second parse.
    for (const asnCert of basic.certs ?? []) {
      const tbs = asnCert.tbsCertificate;
      if (!matchesRid(() => Buffer.from(AsnConvert.serialize(tbs.subject)), tbs.subjectPublicKeyInfo)) continue;
      let der: Buffer;
      let spkiDer: Buffer;
      try {
        der = Buffer.from(AsnConvert.serialize(asnCert));
        spkiDer = Buffer.from(AsnConvert.serialize(tbs.subjectPublicKeyInfo));
      } catch {
        signatureDetail = 'the responder certificate in the answer cannot be read';
        break;
      }
      const auth = delegation(der, expect.issuer, expect.now);
      if (auth.ok) {
        signerSpki = spkiDer;
        signer = 'delegated';
      } else {
        signatureDetail = auth.detail;
      }
      break;
    }
  }
  let rawTbs: ArrayBuffer | undefined = basic.tbsResponseDataRaw;
  if (!rawTbs) {
    try {
      rawTbs = AsnConvert.serialize(data);
    } catch {
      rawTbs = undefined;
    }
  }
  const valid = signerSpki !== undefined && rawTbs !== undefined && verifySignature(basic.signatureAlgorithm.algorithm, rawTbs, basic.signature, signerSpki);
  if (signerSpki === undefined) signatureDetail ??= 'no certificate matching the responder id is the issuer or one of its delegated OCSP signers';
  else if (!valid) signatureDetail = `the signature does not verify with the ${signer} key (${basic.signatureAlgorithm.algorithm})`;

  let nonce: OcspCheck['nonce'] = 'not-sent';
  if (expect.nonce) {
    const ext = data.responseExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
    if (!ext) nonce = 'absent';
    else {
      const raw = toBuffer(ext.extnValue.buffer);
      let inner: Buffer | undefined;
      try {
        inner = toBuffer(AsnConvert.parse(raw, OctetString, CERT_PARSE_OPTIONS).buffer);
      } catch {
        inner = undefined;
      }
      nonce = raw.equals(expect.nonce) || inner?.equals(expect.nonce) ? 'match' : 'mismatch';
    }
  }
  const fresh = freshness(single.thisUpdate, single.nextUpdate, expect.now);
  const st = single.certStatus;
  const status: OcspCheck['status'] = st.revoked ? 'revoked' : st.good !== undefined ? 'good' : 'unknown';
  return {
    ok: valid && fresh === 'fresh' && nonce !== 'mismatch',
    responseStatus, signature: valid ? 'valid' : 'invalid', signer,
    ...(signatureDetail && !valid ? { signatureDetail } : {}),
    freshness: fresh, nonce, status,
    thisUpdate: single.thisUpdate.toISOString(),
    ...(single.nextUpdate ? { nextUpdate: single.nextUpdate.toISOString(), nextUpdateDate: single.nextUpdate } : {}),
    producedAt: data.producedAt.toISOString(),
    ...(st.revoked ? { reason: reasonName(st.revoked.revocationReason?.reason), revocationDate: st.revoked.revocationTime.toISOString() } : {}),
  };
}

export interface OcspCheckOptions extends Omit<FetchOptions, 'maxBytes' | 'method' | 'body'> {
  readonly cache?: RevocationCache;
  readonly now?: () => Date;
  readonly maxBytes?: number;
  /** 'auto' (default): GET when the URL stays under 255 bytes, else POST. */
  readonly method?: 'auto' | 'GET' | 'POST';
  /** Send a nonce (default true). A GET with a nonce defeats responder caches, so 'auto' POSTs when a nonce is sent. */
  readonly nonce?: boolean;
}

/** Asks the responder at `url` about `cert`. Answers are cached per URL, issuer key and serial until nextUpdate. */
export async function checkOcsp(url: string, cert: x509.X509Certificate, issuer: x509.X509Certificate, issuerKeyId: string,
  opts: OcspCheckOptions): Promise<OcspCheck> {
  const started = performance.now();
  const now = opts.now ?? (() => new Date(opts.cache?.now() ?? Date.now()));
  const key = `ocsp ${url} ${issuerKeyId} ${cert.serialNumber}`;
  const hit = opts.cache?.get<OcspCheck>(key);
  if (hit) {
    // Re-judge freshness against the current clock; everything else was decided when fetched.
    return { ...hit, cached: true, seconds: (performance.now() - started) / 1000 };
  }
  const wantNonce = opts.nonce ?? true;
  const req = buildOcspRequest(cert, issuer, { nonce: wantNonce });
  const getUrl = ocspGetUrl(url, req.der);
  const method: 'GET' | 'POST' = opts.method === 'GET' || opts.method === 'POST' ? opts.method
    : !wantNonce && getUrl.length <= OCSP_GET_LIMIT ? 'GET' : 'POST';
  const res = await boundedFetch(method === 'GET' ? getUrl : url, {
    ...opts, maxBytes: opts.maxBytes ?? DEFAULT_MAX_OCSP_BYTES, method,
    ...(method === 'POST' ? { body: req.der, headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' } }
      : { headers: { accept: 'application/ocsp-response' } }),
  });
  const seconds = (): number => (performance.now() - started) / 1000;
  if (!res.ok) {
    return { kind: 'ocsp', url, method, ok: false, cached: false, seconds: seconds(), phases: res.phases,
      ...(res.status !== undefined ? { httpStatus: res.status } : {}), error: { code: res.code, message: res.message } };
  }
  const ev = await evaluateOcspResponse(res.body, { certId: req.certId, issuer, now: now(), ...(req.nonce ? { nonce: req.nonce } : {}) });
  const { nextUpdateDate, ...evaluation } = ev;
  const result: OcspCheck = {
    kind: 'ocsp', url, method, cached: false, seconds: seconds(), httpStatus: res.status, bytes: res.body.length,
    phases: res.phases, ...evaluation,
  };
  if (result.ok) opts.cache?.set(key, result, nextUpdateDate);
  return result;
}
