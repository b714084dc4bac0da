// A small certificate authority generated at start: a root, an intermediate,
// delegated OCSP signers, and leaves on demand. Certificates carry CRL
// distribution points and Authority Information Access pointing at the
// simulated responders (src/sim/revocation-responders.ts), which serve the
// CRLs and OCSP answers this object produces.
import { KeyObject, randomBytes, sign as nodeSign, webcrypto } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { CRLReason, Extension as AsnExtension, Name as AsnName } from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse, CertStatus, OCSPRequest, OCSPResponse, OCSPResponseStatus, ResponderID, ResponseBytes,
  ResponseData, RevokedInfo, SingleResponse, id_pkix_ocsp_basic, id_pkix_ocsp_nonce,
} from '@peculiar/asn1-ocsp';
import { Certificate as AsnCertificate } from '@peculiar/asn1-x509';
import {
  certParts, keyHash, normaliseSerial, sha1, signatureAlgorithmFor, toBuffer, x509, type CryptoKey, type CryptoKeyPair,
} from '../net/pki/crypto.js';

export type SimKeyAlgorithm = 'ecdsa' | 'rsa';

/** RFC 5280 reason codes by name (the numbers are those of the CRLReason enumeration). */
export const REVOCATION_REASONS = {
  unspecified: 0, keyCompromise: 1, cACompromise: 2, affiliationChanged: 3, superseded: 4,
  cessationOfOperation: 5, certificateHold: 6, removeFromCRL: 8, privilegeWithdrawn: 9, aACompromise: 10,
} as const;
export type RevocationReasonName = keyof typeof REVOCATION_REASONS;

export interface SimPkiOptions {
  /** CRL distribution point written into leaves (the intermediate's CRL). */
  readonly crlUrl?: string;
  /** CRL distribution point written into the intermediate (the root's CRL). */
  readonly rootCrlUrl?: string;
  /** OCSP responder written into leaves and the intermediate (one responder answers for both CAs). */
  readonly ocspUrl?: string;
  /** CA-issuers URL written into leaves (serves the intermediate). */
  readonly caIssuersUrl?: string;
  /** CA-issuers URL written into the intermediate (serves the root). */
  readonly rootCaIssuersUrl?: string;
  /** Key algorithm for every key. Default ecdsa (P-256), which generates in milliseconds. */
  readonly algorithm?: SimKeyAlgorithm;
  /** Who signs OCSP answers: the CA itself, or a delegated responder with id-kp-OCSPSigning. Default delegated. */
  readonly ocspSigner?: 'issuer' | 'delegated';
  /** A name put in subjects, to tell several simulated PKIs apart. */
  readonly name?: string;
  /** The clock; tests move it. Default: the wall clock. */
  readonly now?: () => Date;
  /** The intermediate's validity, e.g. one that expired while the leaves it issued did not. Default: five years from a day ago. */
  readonly intermediateValidity?: { readonly notBefore: Date; readonly notAfter: Date };
}

export interface IssueLeafOptions {
  readonly hostnames: readonly string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Write CDP and AIA into the leaf. Default true. */
  readonly withRevocationInfo?: boolean;
  /** Override the URLs of the PKI for this leaf (e.g. an ldap:// CDP, a dead port). */
  readonly crlUrls?: readonly string[];
  readonly ocspUrls?: readonly string[];
  readonly caIssuersUrls?: readonly string[];
}

export interface IssuedLeaf {
  readonly certPem: string;
  readonly keyPem: string;
  /** Leaf then intermediate, PEM. */
  readonly chainPem: string;
  readonly serialHex: string;
}

export interface RevocationRecord {
  readonly serialHex: string;
  readonly reason: RevocationReasonName;
  readonly date: Date;
}

export interface CrlOptions {
  readonly thisUpdate?: Date;
  readonly nextUpdate?: Date;
  /** Signed by a key that is not the CA's (the issuer name is still the CA's). */
  readonly badSignature?: boolean;
}

export interface OcspOptions {
  readonly thisUpdate?: Date;
  readonly nextUpdate?: Date;
  readonly producedAt?: Date;
  readonly badSignature?: boolean;
  readonly signer?: 'issuer' | 'delegated';
  /** Echo the request nonce (default true); 'wrong' answers with another nonce. */
  readonly nonce?: boolean | 'wrong';
  /**
   * The answer to a request about an issuer this PKI does not have: a signed "unknown" status
   * (RFC 6960 2.2, the default) or the unsigned error status "unauthorized" (RFC 6960 2.3), which
   * responders without authoritative records must give under RFC 5019 2.2.3, as public CAs' do.
   */
  readonly unknownIssuer?: 'unknown' | 'unauthorized';
}

export interface SimCa {
  readonly cert: x509.X509Certificate;
  readonly pem: string;
  readonly der: Buffer;
  readonly keys: CryptoKeyPair;
  readonly ocspSigner: { cert: x509.X509Certificate; keys: CryptoKeyPair };
  readonly revoked: Map<string, RevocationRecord>;
  readonly issued: Set<string>;
  readonly nameHash: Buffer;
  readonly keyHash: Buffer;
}

export interface SimPki {
  readonly options: SimPkiOptions;
  readonly root: SimCa;
  readonly intermediate: SimCa;
  readonly rootPem: string;
  readonly intermediatePem: string;
  /** Trust anchors for a TLS client (the root). */
  readonly caPem: string;
  issueLeaf(opts: IssueLeafOptions): Promise<IssuedLeaf>;
  /** Revokes a certificate issued by either CA (a leaf, or the intermediate itself). */
  revoke(serialHex: string, reason?: RevocationReasonName, date?: Date): void;
  /** DER CRL of a CA, built from its current revocations. */
  crl(which: 'root' | 'intermediate', opts?: CrlOptions): Promise<Buffer>;
  /** Answers a DER OCSPRequest with a DER OCSPResponse. Malformed requests get malformedRequest. */
  ocspRespond(requestDer: Uint8Array, opts?: OcspOptions): Promise<Buffer>;
  now(): Date;
}

const DAY = 86_400_000;

/** Whole seconds: certificate, CRL and OCSP times carry no fractions (RFC 5280 4.1.2.5.2). */
const second = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);

function algorithmParams(alg: SimKeyAlgorithm): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams {
  return alg === 'rsa'
    ? { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
    : { name: 'ECDSA', namedCurve: 'P-256' };
}

function signingAlgorithm(alg: SimKeyAlgorithm): webcrypto.Algorithm | webcrypto.EcdsaParams {
  return alg === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5' } : { name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams;
}

async function generateKeys(alg: SimKeyAlgorithm): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(algorithmParams(alg), true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/** A positive 16-byte serial without a leading zero byte. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 1) & 0x7f) | 0x10;
  return bytes.toString('hex');
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function signDer(data: Buffer, key: CryptoKey): Buffer {
  return nodeSign('sha256', data, KeyObject.from(key));
}

function aiaParams(ocsp: readonly string[], caIssuers: readonly string[]): x509.AuthorityInfoAccessParams {
  const params: x509.AuthorityInfoAccessParams = {};
  if (ocsp.length) params.ocsp = ocsp.map((u) => new x509.GeneralName('url', u));
  if (caIssuers.length) params.caIssuers = caIssuers.map((u) => new x509.GeneralName('url', u));
  return params;
}

function list(explicit: readonly string[] | undefined, fallback: string | undefined): readonly string[] {
  return explicit ?? (fallback ? [fallback] : []);
}

export async function createSimPki(opts: SimPkiOptions = {}): Promise<SimPki> {
  const alg = opts.algorithm ?? 'ecdsa';
  const wall = opts.now ?? (() => new Date());
  const clock = (): Date => second(wall());
  const label = opts.name ?? 'miprobe sim';
  const sigAlg = signingAlgorithm(alg);
  const start = new Date(clock().getTime() - DAY);

  const [rootKeys, intKeys, rootOcspKeys, intOcspKeys, rogueKeys] = await Promise.all(
    [0, 1, 2, 3, 4].map(() => generateKeys(alg)));
  if (!rootKeys || !intKeys || !rootOcspKeys || !intOcspKeys || !rogueKeys) throw new Error('key generation failed');

  const rootCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(), name: `CN=${label} Root CA, O=miprobe simulation`, keys: rootKeys,
    notBefore: start, notAfter: new Date(start.getTime() + 3650 * DAY), signingAlgorithm: sigAlg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });

  const intExtensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(intKeys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
  ];
  if (opts.rootCrlUrl) intExtensions.push(new x509.CRLDistributionPointsExtension([opts.rootCrlUrl]));
  const intAia = aiaParams(list(undefined, opts.ocspUrl), list(undefined, opts.rootCaIssuersUrl));
  if (intAia.ocsp || intAia.caIssuers) intExtensions.push(new x509.AuthorityInfoAccessExtension(intAia));
  const intSerial = randomSerial();
  const intCert = await x509.X509CertificateGenerator.create({
    serialNumber: intSerial, subject: `CN=${label} Issuing CA 01, O=miprobe simulation`, issuer: rootCert.subjectName,
    publicKey: intKeys.publicKey, signingKey: rootKeys.privateKey, signingAlgorithm: sigAlg,
    notBefore: opts.intermediateValidity?.notBefore ?? start, notAfter: opts.intermediateValidity?.notAfter ?? new Date(start.getTime() + 1825 * DAY),
    extensions: intExtensions,
  });

  async function ocspSignerCert(caCert: x509.X509Certificate, caKeys: CryptoKeyPair, keys: CryptoKeyPair, name: string) {
    return x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(), subject: `CN=${name} OCSP Responder, O=miprobe simulation`, issuer: caCert.subjectName,
      publicKey: keys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: sigAlg,
      notBefore: start, notAfter: new Date(start.getTime() + 365 * DAY),
      extensions: [
        new x509.BasicConstraintsExtension(false),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.9']),
        new x509.Extension('1.3.6.1.5.5.7.48.1.5', false, new Uint8Array([0x05, 0x00])), // id-pkix-ocsp-nocheck
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
      ],
    });
  }

  const makeCa = async (cert: x509.X509Certificate, keys: CryptoKeyPair, ocspKeys: CryptoKeyPair, name: string): Promise<SimCa> => {
    const der = Buffer.from(cert.rawData);
    const parts = certParts(der);
    return {
      cert, der, keys, pem: cert.toString('pem'),
      ocspSigner: { cert: await ocspSignerCert(cert, keys, ocspKeys, name), keys: ocspKeys },
      revoked: new Map(), issued: new Set(), nameHash: sha1(parts.subjectDer), keyHash: keyHash(parts.spkiDer),
    };
  };
  const root = await makeCa(rootCert, rootKeys, rootOcspKeys, `${label} Root CA`);
  const intermediate = await makeCa(intCert, intKeys, intOcspKeys, `${label} Issuing CA 01`);
  root.issued.add(normaliseSerial(intSerial));

  const caFor = (serial: string): SimCa | undefined =>
    intermediate.issued.has(serial) ? intermediate : root.issued.has(serial) ? root : undefined;

  async function issueLeaf(leafOpts: IssueLeafOptions): Promise<IssuedLeaf> {
    const keys = await generateKeys(alg);
    const now = clock();
    const withInfo = leafOpts.withRevocationInfo ?? true;
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | (alg === 'rsa' ? x509.KeyUsageFlags.keyEncipherment : 0), true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(leafOpts.hostnames.map((h) => ({ type: /^[\d.]+$|:/.test(h) ? 'ip' as const : 'dns' as const, value: h }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(intKeys.publicKey),
    ];
    if (withInfo) {
      const crls = list(leafOpts.crlUrls, opts.crlUrl);
      if (crls.length) extensions.push(new x509.CRLDistributionPointsExtension([...crls]));
      const aia = aiaParams(list(leafOpts.ocspUrls, opts.ocspUrl), list(leafOpts.caIssuersUrls, opts.caIssuersUrl));
      if (aia.ocsp || aia.caIssuers) extensions.push(new x509.AuthorityInfoAccessExtension(aia));
    }
    const serial = randomSerial();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial, subject: `CN=${leafOpts.hostnames[0] ?? 'leaf'}`, issuer: intCert.subjectName,
      publicKey: keys.publicKey, signingKey: intKeys.privateKey, signingAlgorithm: sigAlg,
      notBefore: leafOpts.notBefore ?? new Date(now.getTime() - 3_600_000),
      notAfter: leafOpts.notAfter ?? new Date(now.getTime() + 90 * DAY), extensions,
    });
    intermediate.issued.add(normaliseSerial(serial));
    const certPem = cert.toString('pem');
    return { certPem, keyPem: await keyPem(keys.privateKey), chainPem: `${certPem}\n${intermediate.pem}\n`, serialHex: normaliseSerial(serial) };
  }

  function revoke(serialHex: string, reason: RevocationReasonName = 'keyCompromise', date?: Date): void {
    const serial = normaliseSerial(serialHex);
    const ca = caFor(serial);
    if (!ca) throw new Error(`serial ${serial} was not issued by this PKI`);
    ca.revoked.set(serial, { serialHex: serial, reason, date: second(date ?? new Date(clock().getTime() - 300_000)) });
    revision++;
  }

  // Generated CRLs are reused for a minute while nothing changes (the responders serve many requests); concurrent
  // requests share one generation (signing in parallel is much slower than once, and starves the simulated gateway).
  const crlMemo = new Map<string, { at: number; der: Promise<Buffer> }>();
  let revision = 0;

  async function crl(which: 'root' | 'intermediate', crlOpts: CrlOptions = {}): Promise<Buffer> {
    const now = clock();
    const key = [which, revision, crlOpts.badSignature ?? false, crlOpts.thisUpdate?.getTime(), crlOpts.nextUpdate?.getTime()].join('|');
    const memo = crlMemo.get(key);
    if (memo && Math.abs(now.getTime() - memo.at) < 60_000) return memo.der;
    const der = makeCrl(which, crlOpts, now);
    if (crlMemo.size > 64) crlMemo.clear();
    crlMemo.set(key, { at: now.getTime(), der });
    der.catch(() => crlMemo.delete(key));
    return der;
  }

  async function makeCrl(which: 'root' | 'intermediate', crlOpts: CrlOptions, now: Date): Promise<Buffer> {
    const ca = which === 'root' ? root : intermediate;
    const thisUpdate = second(crlOpts.thisUpdate ?? new Date(now.getTime() - 60_000));
    const result = await x509.X509CrlGenerator.create({
      issuer: ca.cert.subjectName, thisUpdate, nextUpdate: second(crlOpts.nextUpdate ?? new Date(thisUpdate.getTime() + DAY)),
      signingAlgorithm: sigAlg, signingKey: crlOpts.badSignature ? rogueKeys.privateKey : ca.keys.privateKey,
      extensions: [await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey)],
      entries: [...ca.revoked.values()].map((r) => ({
        serialNumber: r.serialHex, revocationDate: r.date, reason: REVOCATION_REASONS[r.reason] as x509.X509CrlReason,
      })),
    });
    return Buffer.from(result.rawData);
  }

  const ocspError = (status: OCSPResponseStatus): Buffer =>
    Buffer.from(AsnConvert.serialize(new OCSPResponse({ responseStatus: status })));

  async function ocspRespond(requestDer: Uint8Array, o: OcspOptions = {}): Promise<Buffer> {
    let request: OCSPRequest;
    try {
      request = AsnConvert.parse(toBuffer(requestDer), OCSPRequest);
    } catch {
      return ocspError(OCSPResponseStatus.malformedRequest);
    }
    const now = clock();
    const thisUpdate = second(o.thisUpdate ?? new Date(now.getTime() - 60_000));
    const nextUpdate = second(o.nextUpdate ?? new Date(thisUpdate.getTime() + DAY));
    let signingCa: SimCa | undefined;
    const responses = request.tbsRequest.requestList.map((req) => {
      const id = req.reqCert;
      const serial = normaliseSerial(Buffer.from(id.serialNumber).toString('hex'));
      const ca = [intermediate, root].find((c) => c.keyHash.equals(toBuffer(id.issuerKeyHash.buffer))
        && c.nameHash.equals(toBuffer(id.issuerNameHash.buffer)));
      signingCa ??= ca;
      const rec = ca?.revoked.get(serial);
      const status = !ca || !ca.issued.has(serial) ? new CertStatus({ unknown: null })
        : rec ? new CertStatus({ revoked: new RevokedInfo({ revocationTime: rec.date, revocationReason: new CRLReason(REVOCATION_REASONS[rec.reason]) }) })
          : new CertStatus({ good: null });
      return new SingleResponse({ certID: id, certStatus: status, thisUpdate, nextUpdate });
    });
    if (responses.length === 0) return ocspError(OCSPResponseStatus.malformedRequest);
    if (!signingCa && o.unknownIssuer === 'unauthorized') return ocspError(OCSPResponseStatus.unauthorized);
    const ca = signingCa ?? intermediate;
    const mode = o.signer ?? opts.ocspSigner ?? 'delegated';
    const signer = mode === 'delegated' ? ca.ocspSigner : { cert: ca.cert, keys: ca.keys };
    const responseExtensions: AsnExtension[] = [];
    const nonceExt = request.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
    if (nonceExt && (o.nonce ?? true) !== false) {
      const value = o.nonce === 'wrong'
        ? AsnConvert.serialize(new OctetString(randomBytes(16)))
        : nonceExt.extnValue.buffer;
      responseExtensions.push(new AsnExtension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(value) }));
    }
    const signerParts = certParts(signer.cert.rawData);
    const tbs = new ResponseData({
      responderID: new ResponderID({ byName: AsnConvert.parse(signerParts.subjectDer, AsnName) }),
      producedAt: second(o.producedAt ?? now), responses,
      ...(responseExtensions.length ? { responseExtensions } : {}),
    });
    const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
    const signingKey = o.badSignature ? rogueKeys.privateKey : signer.keys.privateKey;
    const basic = new BasicOCSPResponse({
      tbsResponseData: tbs,
      signatureAlgorithm: signatureAlgorithmFor(alg === 'rsa' ? 'rsa' : 'ec'),
      signature: new Uint8Array(signDer(tbsDer, signingKey)).buffer,
      ...(mode === 'delegated' ? { certs: [AsnConvert.parse(signer.cert.rawData, AsnCertificate)] } : {}),
    });
    return Buffer.from(AsnConvert.serialize(new OCSPResponse({
      responseStatus: OCSPResponseStatus.successful,
      responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
    })));
  }

  return {
    options: opts, root, intermediate, rootPem: root.pem, intermediatePem: intermediate.pem, caPem: root.pem,
    issueLeaf, revoke, crl, ocspRespond, now: clock,
  };
}
