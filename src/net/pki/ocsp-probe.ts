// An OCSP request that needs no certificate, for checking that an OCSP URL
// is served by an OCSP responder (not by a portal, a proxy or a filter), and
// the reading of whatever comes back.
//
// The request asks about serial 1 of an issuer no CA has (the name and key
// hashes are SHA-1 of fixed texts). RFC 6960 gives a responder two honest
// answers to it: the error status "unauthorized" when it cannot answer
// authoritatively (section 2.3, after RFC 5019 2.2.3, which makes it a MUST
// for responders without authoritative records), or a signed "successful"
// response whose certificate status is "unknown" (section 2.2: "usually
// because the request indicates an unrecognized issuer that is not served by
// this responder"). "malformedRequest" (2.3) also comes from a responder.
// Any of these is an OCSP response, which is the proof sought.
import { createHash } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse, CertID, OCSPRequest, OCSPResponse, OCSPResponseStatus, Request, TBSRequest, id_pkix_ocsp_basic,
} from '@peculiar/asn1-ocsp';

const OID_SHA1 = '1.3.14.3.2.26';
const sha1 = (text: string): Buffer => createHash('sha1').update(text).digest();

function buildProbeRequest(): Buffer {
  const certId = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA1, parameters: null }),
    issuerNameHash: new OctetString(sha1('miprobe: no such issuer (name)')),
    issuerKeyHash: new OctetString(sha1('miprobe: no such issuer (key)')),
    serialNumber: new Uint8Array([0x01]).buffer,
  });
  return Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }) })));
}

/** The DER OCSPRequest sent to OCSP URLs that have no certificate of their own to ask about (POST, RFC 6960 A.1). */
export const PROBE_OCSP_REQUEST: Buffer = buildProbeRequest();

/** Statuses that show a working responder; internalError and tryLater show one that cannot answer now. */
const RESPONDER_WORKS: ReadonlySet<OCSPResponseStatus> = new Set([
  OCSPResponseStatus.successful, OCSPResponseStatus.malformedRequest, OCSPResponseStatus.sigRequired, OCSPResponseStatus.unauthorized,
]);

export type OcspReading =
  | { readonly ok: true; readonly responseStatus: string }
  | { readonly ok: false; readonly responseStatus?: string; readonly reason: string };

/** Reads a body as an OCSPResponse (RFC 6960 4.2.1). Never throws. */
export function readOcspResponse(body: Buffer): OcspReading {
  let response: OCSPResponse;
  try {
    response = AsnConvert.parse(body, OCSPResponse);
  } catch (err) {
    return { ok: false, reason: `not an OCSP response (${(err as Error).message.slice(0, 120)})` };
  }
  const status = response.responseStatus;
  const responseStatus = OCSPResponseStatus[status] ?? `status-${String(status)}`;
  if (status === OCSPResponseStatus.successful) {
    // A successful response must carry a basic response (4.2.1); a bare status byte is no proof of a responder.
    const bytes = response.responseBytes;
    if (!bytes || bytes.responseType !== id_pkix_ocsp_basic) {
      return { ok: false, responseStatus, reason: 'a "successful" OCSP response without a basic response' };
    }
    try {
      AsnConvert.parse(bytes.response.buffer, BasicOCSPResponse);
    } catch (err) {
      return { ok: false, responseStatus, reason: `an undecodable BasicOCSPResponse (${(err as Error).message.slice(0, 120)})` };
    }
  }
  if (!RESPONDER_WORKS.has(status)) {
    return { ok: false, responseStatus, reason: `the responder answered ${responseStatus}: it is there but cannot answer now` };
  }
  return { ok: true, responseStatus };
}
