// What the fuzzing found in the PKI parsers, pinned down with inputs built on
// purpose: a real-sized CRL (asn1js stopped at 10,000 items: CRLs of more than
// about 1,400 entries were "not a CRL"), a malformed CRLReason in a signed CRL
// (checkCrl threw), and the shapes that made certificate parsing slow (a long
// BOOLEAN, a long OBJECT IDENTIFIER, thousands of tiny items).
import t from 'tap';
import { KeyObject, sign } from 'node:crypto';
import { createSimPki } from '../../src/sim/pki.js';
import { certParts, CertificateParseError, ParsedCertificate, x509 } from '../../src/net/pki/crypto.js';
import { evaluateCrl, parseCrl } from '../../src/net/pki/crl.js';
import { parseCertificates } from '../../src/net/pki/issuers.js';
import { encodeLength, nestedSequences, parseDer, encodeDer } from './der.js';

const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
};
const utc = (d: Date): Buffer => tlv(0x17, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`, 'latin1'));
const ECDSA_SHA256 = tlv(0x30, tlv(0x06, Buffer.from('2a8648ce3d040302', 'hex')));
const REASON_OID = tlv(0x06, Buffer.from('551d15', 'hex'));

function entry(serialHex: string, date: Date, reasonValue?: Buffer): Buffer {
  const serial = Buffer.from(serialHex.length % 2 ? `0${serialHex}` : serialHex, 'hex');
  const integer = tlv(0x02, (serial[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), serial]) : serial);
  const ext = reasonValue ? [tlv(0x30, tlv(0x30, REASON_OID, tlv(0x04, reasonValue)))] : [];
  return tlv(0x30, integer, utc(date), ...ext);
}

t.test('a CRL of 20,000 entries parses, and the revoked certificate is found with its reason', async (t) => {
  const pki = await createSimPki({ name: 'fuzz regression' });
  const leaf = new x509.X509Certificate((await pki.issueLeaf({ hostnames: ['a.example'] })).certPem);
  const good = new x509.X509Certificate((await pki.issueLeaf({ hostnames: ['b.example'] })).certPem);
  const issuer = pki.intermediate.cert;
  const now = new Date();
  const day = 86_400_000;
  const build = (reason: Buffer): Buffer => {
    const entries = Array.from({ length: 20_000 }, (_, i) => entry((0x100000 + i).toString(16), new Date(now.getTime() - day)));
    entries.splice(12_345, 0, entry(leaf.serialNumber, new Date(now.getTime() - day), reason));
    const tbs = tlv(0x30, tlv(0x02, Buffer.from([1])), ECDSA_SHA256, certParts(issuer.rawData).subjectDer,
      utc(new Date(now.getTime() - 60_000)), utc(new Date(now.getTime() + day)), tlv(0x30, ...entries));
    const signature = sign('sha256', tbs, { key: KeyObject.from(pki.intermediate.keys.privateKey), dsaEncoding: 'der' });
    return tlv(0x30, tbs, ECDSA_SHA256, tlv(0x03, Buffer.from([0]), signature));
  };

  const der = build(tlv(0x0a, Buffer.from([1]))); // keyCompromise
  t.ok(der.length > 400_000, `a real-sized CRL (${der.length} bytes)`);
  const crl = parseCrl(der);
  if (typeof crl === 'string') return t.fail(`refused: ${crl}`);
  const revoked = await evaluateCrl(crl, leaf, issuer, 'k', { now });
  t.match(revoked, { ok: true, signature: 'valid', freshness: 'fresh', entries: 20_001, status: 'revoked', reason: 'keyCompromise' });
  t.equal(revoked.revocationDate?.slice(0, 10), new Date(now.getTime() - day).toISOString().slice(0, 10));
  t.match(await evaluateCrl(crl, good, issuer, 'k', { now }), { ok: true, status: 'good', entries: 20_001 });
  t.equal(Buffer.from(crl.rawData).length, der.length, 'rawData is the CRL as received');

  // The same CRL, signed, whose entry for the certificate carries a CRLReason that does not decode:
  // checkCrl threw (AsnSchemaValidationError from the reason getter). The serial is listed: revoked.
  for (const [label, bad] of [['empty ENUMERATED', tlv(0x0a, Buffer.alloc(0))], ['a BOOLEAN', tlv(0x01, Buffer.from([0xff]))],
    ['a huge ENUMERATED', tlv(0x0a, Buffer.alloc(40, 0x7f))], ['not DER', Buffer.from([0x0a, 0x84, 0xff])]] as const) {
    const parsed = parseCrl(build(bad));
    if (typeof parsed === 'string') {
      t.fail(`${label}: refused: ${parsed}`);
      continue;
    }
    const r = await evaluateCrl(parsed, leaf, issuer, 'k', { now });
    t.match(r, { signature: 'valid', status: 'revoked' }, `${label}: still revoked, signature valid`);
    t.match(r.reason, /^(unreadable|reason-\d+|unspecified)$/, `${label}: the reason says it could not be read (${r.reason})`);
  }
});

t.test('certificate shapes that made parsing slow are refused before parsing, with CertificateParseError', async (t) => {
  const pki = await createSimPki({ name: 'fuzz regression 2' });
  const der = Buffer.from(new x509.X509Certificate((await pki.issueLeaf({ hostnames: ['c.example'] })).certPem).rawData);
  const tree = parseDer(der);
  if (!tree) return t.fail('the seed does not parse');
  // Replace the first extension's critical flag position with a long BOOLEAN, an OID with a long one, and pile up items.
  const withExtension = (ext: Buffer): Buffer => {
    const copy = parseDer(der);
    const tbs = copy?.[0]?.children?.[0];
    const extensions = tbs?.children?.find((n) => n.tag === 0xa3)?.children?.[0]?.children;
    if (!copy || !extensions) throw new Error('no extensions in the seed');
    extensions.push({ tag: 0x30, raw: ext });
    return encodeDer(copy);
  };
  const cases: Array<[string, Buffer, RegExp]> = [
    ['a 25 KB BOOLEAN', withExtension(tlv(0x30, tlv(0x06, Buffer.from('551d13', 'hex')), tlv(0x01, Buffer.alloc(25_000, 0x4c)), tlv(0x04, Buffer.from('3000', 'hex')))), /a BOOLEAN of 25000 bytes/],
    ['a 64 KB OBJECT IDENTIFIER', withExtension(tlv(0x30, tlv(0x06, Buffer.alloc(65_000, 0x6d)), tlv(0x04, Buffer.from('3000', 'hex')))), /an OBJECT IDENTIFIER of 65000 bytes/],
    ['10,000 tiny items', withExtension(tlv(0x30, tlv(0x06, Buffer.from('551d11', 'hex')), tlv(0x04, tlv(0x30, ...Array.from({ length: 10_000 }, () => tlv(0x82, Buffer.from('a'))))))), /more than 2048 ASN\.1 items/],
    ['nested 5,000 deep', withExtension(tlv(0x30, tlv(0x06, Buffer.from('551d11', 'hex')), tlv(0x04, nestedSequences(Buffer.from([5, 0]), 5000)))), /nested more than 48 levels deep/],
  ];
  for (const [label, input, pattern] of cases) {
    let thrown: unknown;
    try {
      new ParsedCertificate(input);
    } catch (err) {
      thrown = err;
    }
    t.type(thrown, CertificateParseError, `${label}: CertificateParseError`);
    t.match((thrown as Error | undefined)?.message, pattern, `${label}: says why`);
    const bundle = parseCertificates(input);
    t.type(bundle, 'string', `${label}: parseCertificates gives a message`);
  }
  t.ok(new ParsedCertificate(der), 'the unmutated certificate still parses');
});
