// One place that wires @peculiar/x509 to Node's webcrypto and holds the
// signature helpers shared by the CRL and OCSP code (and the simulation).
import 'reflect-metadata';
import { createHash, createPublicKey, verify as nodeVerify, webcrypto, X509Certificate as NodeX509Certificate, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, Extension, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

export { x509 };

/** Signature algorithm OIDs miprobe verifies, with the hash Node's crypto.verify takes. */
export const SIGNATURE_ALGORITHMS: Readonly<Record<string, { hash: string; key: 'rsa' | 'ec' }>> = {
  '1.2.840.113549.1.1.5': { hash: 'sha1', key: 'rsa' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', key: 'rsa' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', key: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', key: 'rsa' },
  '1.2.840.10045.4.1': { hash: 'sha1', key: 'ec' },
  '1.2.840.10045.4.3.2': { hash: 'sha256', key: 'ec' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', key: 'ec' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', key: 'ec' },
};

export const OID_SHA1 = '1.3.14.3.2.26';

/** AlgorithmIdentifier of the signature a key of this type makes with SHA-256. */
export function signatureAlgorithmFor(keyType: string): AlgorithmIdentifier {
  return keyType === 'ec'
    ? new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' })
    : new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: null });
}

export function toBuffer(data: ArrayBuffer | ArrayBufferView): Buffer {
  return ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
}

/** Verifies a DER signature over `data` made by the key of `cert` (SPKI). Never throws. */
export function verifySignature(algorithmOid: string, data: ArrayBuffer | ArrayBufferView, signature: ArrayBuffer | ArrayBufferView,
  spkiDer: ArrayBuffer | ArrayBufferView): boolean {
  const alg = SIGNATURE_ALGORITHMS[algorithmOid];
  if (!alg) return false;
  try {
    const key: KeyObject = createPublicKey({ key: toBuffer(spkiDer), format: 'der', type: 'spki' });
    return nodeVerify(alg.hash, toBuffer(data), key, toBuffer(signature));
  } catch {
    return false;
  }
}

const NATIVE = new Map<string, NodeX509Certificate | null>();
const MAX_NATIVE = 2048;

/** Node's own (native) parse of a DER certificate, memoised; undefined when OpenSSL cannot read it. */
export function nativeCert(der: ArrayBuffer | ArrayBufferView): NodeX509Certificate | undefined {
  const buf = toBuffer(der);
  const key = createHash('sha256').update(buf).digest('base64');
  let hit = NATIVE.get(key);
  if (hit === undefined) {
    try {
      hit = new NodeX509Certificate(buf);
    } catch {
      hit = null;
    }
    if (NATIVE.size >= MAX_NATIVE) NATIVE.delete(NATIVE.keys().next().value ?? '');
    NATIVE.set(key, hit);
  }
  return hit ?? undefined;
}

/**
 * Whether `issuer` issued `cert`: names (and key identifiers) match and the signature verifies.
 * OpenSSL does it natively; @peculiar/x509's verify() imports the key through WebCrypto and
 * walks the ASN.1 in JavaScript, a large part of a chain check's CPU.
 */
export function issuedBy(cert: ArrayBuffer | ArrayBufferView, issuer: ArrayBuffer | ArrayBufferView): boolean {
  const c = nativeCert(cert);
  const i = nativeCert(issuer);
  if (!c || !i) return false;
  try {
    return c.checkIssued(i) && c.verify(i.publicKey);
  } catch {
    return false;
  }
}

export function sha1(data: ArrayBuffer | ArrayBufferView): Buffer {
  return createHash('sha1').update(toBuffer(data)).digest();
}

export interface CertParts {
  readonly subjectDer: Buffer;
  readonly spkiDer: Buffer;
  readonly publicKeyBits: Buffer;
  /** The serial number's INTEGER content bytes, as an OCSP CertID carries them. */
  readonly serialBytes: Buffer;
  /** The extensions as they stand in the certificate (id and DER value), undecoded. */
  readonly extensions: readonly Extension[];
}

const PARTS = new Map<string, CertParts>();
const MAX_PARTS = 2048;

/** @peculiar/x509's certificate with the ASN.1 structure it parsed within reach (a protected member there). */
export class ParsedCertificate extends x509.X509Certificate {
  get structure(): Certificate {
    return this.asn;
  }
}

/**
 * The DER of a certificate's subject Name, public key and serial, as an OCSP CertID needs them, and
 * its raw extensions (memoised per DER). Given a ParsedCertificate, its parse is reused: decoding a
 * certificate in JavaScript is the costly part of a chain check.
 */
export function certParts(der: ArrayBuffer | ArrayBufferView, parsed?: ParsedCertificate): CertParts {
  const buf = toBuffer(der);
  const key = createHash('sha256').update(buf).digest('base64');
  const hit = PARTS.get(key);
  if (hit) return hit;
  const cert = parsed?.structure ?? AsnConvert.parse(buf, Certificate);
  const spki = cert.tbsCertificate.subjectPublicKeyInfo;
  const parts: CertParts = {
    subjectDer: Buffer.from(AsnConvert.serialize(cert.tbsCertificate.subject)),
    spkiDer: Buffer.from(AsnConvert.serialize(spki)),
    publicKeyBits: Buffer.from(spki.subjectPublicKey),
    serialBytes: Buffer.from(cert.tbsCertificate.serialNumber),
    extensions: [...(cert.tbsCertificate.extensions ?? [])],
  };
  if (PARTS.size >= MAX_PARTS) PARTS.delete(PARTS.keys().next().value ?? '');
  PARTS.set(key, parts);
  return parts;
}

/** SHA-1 of the BIT STRING value of the subject public key (RFC 6960 issuerKeyHash, RFC 5280 key id method 1). */
export function keyHash(spki: SubjectPublicKeyInfo | ArrayBuffer | ArrayBufferView): Buffer {
  const parsed = spki instanceof SubjectPublicKeyInfo ? spki : AsnConvert.parse(toBuffer(spki), SubjectPublicKeyInfo);
  return sha1(parsed.subjectPublicKey);
}

/** Hex serial as x509 prints it: lower case, no separators. */
export function normaliseSerial(hex: string): string {
  const clean = hex.toLowerCase().replace(/[^0-9a-f]/g, '');
  const stripped = clean.replace(/^(00)+(?=[0-9a-f]{2})/, '');
  return stripped === '' ? '00' : stripped;
}
