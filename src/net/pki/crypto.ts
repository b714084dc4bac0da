// One place that wires @peculiar/x509 to Node's webcrypto and holds the
// signature helpers shared by the CRL and OCSP code (and the simulation).
import 'reflect-metadata';
import { createHash, createPublicKey, verify as nodeVerify, webcrypto, X509Certificate as NodeX509Certificate, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { AsnConvert, type IAsnParseOptions } from '@peculiar/asn1-schema';
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

/**
 * Most ASN.1 items (counting those inside strings, which derProblem reads too) in one certificate,
 * a CA-issuer bundle, an OCSP answer. Real ones have a few hundred (a certificate with 100 names
 * about 400, an OCSP answer with its responder certificate some 600); the parser spends 10-25 µs on
 * each, and a 54 KB bundle of 10,000 tiny items took it 230-860 ms.
 */
export const MAX_CERT_NODES = 2048;
export const MAX_BUNDLE_NODES = 4096;
export const MAX_OCSP_NODES = 4096;

/**
 * How the ASN.1 library parses what peers send. asn1js by default stops at 10,000 items, so a CRL of
 * more than about 1,400 entries was "not a CRL"; it also reads every OCTET STRING and BIT STRING
 * content as an encoding, which nothing here needs (extension values and the OCSP basic response
 * are parsed on their own), and which multiplies the work on hostile input. Sizes are bounded by the
 * fetch caps and derProblem() screens before parsing.
 */
export function parseOptions(maxNodes: number): IAsnParseOptions {
  return { berOptions: { maxNodes, parseEmbedded: false } };
}

/** For certificates (a CA-issuer answer's bundle included) and OCSP answers; CRLs are bounded by their byte cap. */
export const CERT_PARSE_OPTIONS = parseOptions(MAX_BUNDLE_NODES);

/** A certificate that cannot be read: bad DER, or a field the checks need does not decode. */
export class CertificateParseError extends Error {}

/**
 * @peculiar/x509's certificate with the ASN.1 structure it parsed within reach (a protected member there).
 * The fields the checks read (names, serial, validity, public key) are decoded at construction,
 * where a failure is a CertificateParseError, instead of later in a getter.
 */
export class ParsedCertificate extends x509.X509Certificate {
  constructor(der: ArrayBuffer | ArrayBufferView) {
    const problem = derProblem(der, MAX_CERT_NODES);
    if (problem) throw new CertificateParseError(`unreadable certificate (${problem})`);
    try {
      super(toBuffer(der), CERT_PARSE_OPTIONS);
    } catch (err) {
      throw new CertificateParseError(`unreadable certificate (${errorLine(err)})`);
    }
    const why = unreadableField(this);
    if (why) throw new CertificateParseError(`unreadable certificate (${why})`);
    try {
      certParts(this.rawData, this);
    } catch (err) {
      throw new CertificateParseError(`unreadable certificate (${errorLine(err)})`);
    }
  }

  get structure(): Certificate {
    return this.asn;
  }
}

/** First line of an error's message, bounded. */
export function errorLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]?.slice(0, 200) ?? 'error';
}

/**
 * Reads the fields of a parsed certificate that decode lazily (@peculiar's getters); the first
 * that fails, as text, or undefined when all read. After this the getters return memoised values.
 */
export function unreadableField(cert: x509.X509Certificate): string | undefined {
  const fields: ReadonlyArray<readonly [string, () => unknown]> = [
    ['subject', () => cert.subject], ['issuer', () => cert.issuer], ['serialNumber', () => cert.serialNumber],
    ['notBefore', () => cert.notBefore.toISOString()], ['notAfter', () => cert.notAfter.toISOString()],
    ['publicKey', () => cert.publicKey.rawData],
  ];
  for (const [name, read] of fields) {
    try {
      read();
    } catch (err) {
      return `${name}: ${errorLine(err)}`;
    }
  }
  return undefined;
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
  const cert = parsed?.structure ?? AsnConvert.parse(buf, Certificate, CERT_PARSE_OPTIONS);
  const spki = cert.tbsCertificate.subjectPublicKeyInfo;
  // The subject and key as they stand in the certificate: what CertID hashes are over. Re-encoding
  // the parse is the fallback (BER input), and can fail on values the library reads but cannot write.
  const raw = rawSubjectAndKey(buf);
  const parts: CertParts = {
    subjectDer: raw?.subject ?? Buffer.from(AsnConvert.serialize(cert.tbsCertificate.subject)),
    spkiDer: raw?.spki ?? Buffer.from(AsnConvert.serialize(spki)),
    publicKeyBits: Buffer.from(spki.subjectPublicKey),
    serialBytes: Buffer.from(cert.tbsCertificate.serialNumber),
    extensions: [...(cert.tbsCertificate.extensions ?? [])],
  };
  if (PARTS.size >= MAX_PARTS) PARTS.delete(PARTS.keys().next().value ?? '');
  PARTS.set(key, parts);
  return parts;
}

/** One DER item at `at` within `end` (definite lengths only). */
export function derItem(buf: Buffer, at: number, end: number): { tag: number; contentAt: number; end: number } | undefined {
  const tag = buf[at];
  const first = buf[at + 1];
  if (tag === undefined || first === undefined || at + 2 > end) return undefined;
  let length = first;
  let contentAt = at + 2;
  if (first >= 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4 || contentAt + n > end) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (buf[contentAt + i] as number);
    contentAt += n;
  }
  return contentAt + length <= end ? { tag, contentAt, end: contentAt + length } : undefined;
}

/** The subject Name and SubjectPublicKeyInfo of a DER certificate, byte for byte (RFC 5280 4.1). */
function rawSubjectAndKey(buf: Buffer): { subject: Buffer; spki: Buffer } | undefined {
  const cert = derItem(buf, 0, buf.length);
  const tbs = cert && derItem(buf, cert.contentAt, cert.end);
  if (!tbs) return undefined;
  const fields: { at: number; end: number }[] = [];
  for (let at = tbs.contentAt; at < tbs.end && fields.length < 7;) {
    const item = derItem(buf, at, tbs.end);
    if (!item) return undefined;
    if (!(fields.length === 0 && item.tag === 0xa0)) fields.push({ at, end: item.end }); // skip [0] version
    at = item.end;
  }
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
  const subject = fields[4];
  const spki = fields[5];
  return subject && spki ? { subject: Buffer.from(buf.subarray(subject.at, subject.end)), spki: Buffer.from(buf.subarray(spki.at, spki.end)) } : undefined;
}

/** SHA-1 of the BIT STRING value of the subject public key (RFC 6960 issuerKeyHash, RFC 5280 key id method 1). */
export function keyHash(spki: SubjectPublicKeyInfo | ArrayBuffer | ArrayBufferView): Buffer {
  const parsed = spki instanceof SubjectPublicKeyInfo ? spki : AsnConvert.parse(toBuffer(spki), SubjectPublicKeyInfo, CERT_PARSE_OPTIONS);
  return sha1(parsed.subjectPublicKey);
}

/** Hex serial as x509 prints it: lower case, no separators. */
export function normaliseSerial(hex: string): string {
  const clean = hex.toLowerCase().replace(/[^0-9a-f]/g, '');
  const stripped = clean.replace(/^(00)+(?=[0-9a-f]{2})/, '');
  return stripped === '' ? '00' : stripped;
}


/**
 * Longest OBJECT IDENTIFIER accepted (real ones are under 40 bytes): the parser makes an object per
 * arc, and 64 KB of one-byte arcs took it 700 ms. All OIDs together may hold twice the item cap in
 * bytes (a certificate has some 500): a name of 440 parts with 80-byte OIDs took 180 ms.
 */
export const MAX_DER_OID = 256;

/** Deepest nesting accepted in a certificate, CRL or OCSP answer (real ones stay under 15). */
export const MAX_DER_DEPTH = 48;
/**
 * Longest BOOLEAN accepted. DER says one byte; the ASN.1 library (asn1js) decodes a BOOLEAN in time
 * that grows with the square of its length (25 KB took 2 s), so a long one is refused before parsing.
 * It also tries every string's content as an encoding, so random bytes there count too: 1 KB costs
 * about a millisecond and no signature up to 8192 bits can hold a longer one.
 */
export const MAX_DER_BOOLEAN = 1024;

/**
 * Screens DER (or BER) before the ASN.1 library sees it, without recursion: the first problem that
 * would make parsing slow or deep (an oversized BOOLEAN or OBJECT IDENTIFIER, an item running past
 * what holds it, nesting beyond MAX_DER_DEPTH, more than `maxNodes` items or twice that in OID bytes), as text;
 * undefined when there is none. Like the parser, it reads OCTET STRING and BIT STRING contents as
 * encodings as far as they go (extension values, the OCSP basic response are). Anything else that
 * is malformed is left to the parser, which refuses it.
 */
export function derProblem(input: ArrayBuffer | ArrayBufferView, maxNodes = Number.POSITIVE_INFINITY): string | undefined {
  const buf = toBuffer(input);
  let nodes = 0;
  let oidBytes = 0;
  // Each frame: a range to walk, its depth, and whether it is structure (the item and what it is
  // made of) or a string's content read on speculation (random bytes there are no fault). Only the
  // first item of the input is the structure; what follows it is not parsed.
  type Frame = { at: number; end: number; depth: number; structural: boolean; single: boolean };
  const frames: Frame[] = [{ at: 0, end: buf.length, depth: 0, structural: true, single: true }];
  while (frames.length > 0) {
    const f = frames[frames.length - 1] as Frame;
    if (f.at >= f.end) {
      frames.pop();
      continue;
    }
    const itemAt = f.at;
    const tag = buf[itemAt] as number;
    let at = itemAt + 1;
    if ((tag & 0x1f) === 0x1f) {
      while (at < f.end && ((buf[at] as number) & 0x80) !== 0) at++;
      at++;
    }
    const first = buf[at];
    let length = -1;
    let contentAt = at + 1;
    if (first === 0x80) {
      // Indefinite length (BER): the rest of this range; its end-of-contents is walked as a tag 0 item.
      length = f.end - contentAt;
    } else if (first !== undefined && first < 0x80) {
      length = first;
    } else if (first !== undefined && (first & 0x7f) <= 4 && at + 1 + (first & 0x7f) <= f.end) {
      const n = first & 0x7f;
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + (buf[at + 1 + i] as number);
      contentAt = at + 1 + n;
    }
    if (length < 0 || at >= f.end || contentAt + length > f.end) {
      // A header cut short, or an item running past what holds it. In the structure the parser does not
      // stop there on its own (it decoded a 16 MB-long BOOLEAN to the end of the input: 2-20 s).
      if (f.structural) return `a malformed item at byte ${itemAt}`;
      if (length < 0 || at >= f.end) {
        frames.pop();
        continue;
      }
      length = f.end - contentAt;
    }
    f.at = f.single ? f.end : contentAt + length;
    if (++nodes > maxNodes) return `more than ${maxNodes} ASN.1 items`;
    if (tag === 0x01 && length > MAX_DER_BOOLEAN) return `a BOOLEAN of ${length} bytes`;
    if (tag === 0x06 || tag === 0x0d) {
      if (length > MAX_DER_OID) return `an OBJECT IDENTIFIER of ${length} bytes`;
      oidBytes += length;
      if (oidBytes > 2 * maxNodes) return `more than ${2 * maxNodes} bytes of OBJECT IDENTIFIERs`;
    }
    const constructed = (tag & 0x20) !== 0;
    if (constructed || tag === 0x04 || tag === 0x03) {
      // Strings too: extension values and the OCSP basic response are encodings inside OCTET STRINGs.
      const depth = f.depth + 1;
      if (depth > MAX_DER_DEPTH) return `nested more than ${MAX_DER_DEPTH} levels deep`;
      const start = tag === 0x03 && !constructed ? contentAt + 1 : contentAt;
      if (start < contentAt + length) {
        frames.push({ at: start, end: contentAt + length, depth, structural: f.structural && constructed && first !== 0x80, single: false });
      }
    }
  }
  return undefined;
}
