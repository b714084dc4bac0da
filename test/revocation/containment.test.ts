// One bad answer spoils only itself: a malformed CRL served for one
// certificate of a chain is an error on that one line (that URL for that
// certificate); the other URLs and certificates keep their results.
// Real HTTP on loopback (127.81.2.0/24).
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AddressGuard } from '../../src/net/guard.js';
import { RevocationCache } from '../../src/net/pki/cache.js';
import { x509 } from '../../src/net/pki/crypto.js';
import { checkChainRevocation } from '../../src/net/pki/revocation.js';
import { revocationChecks, revocationFindings } from '../../src/diagnosis/revocation-rules.js';
import { createSimPki } from '../../src/sim/pki.js';
import { startRevocationResponders } from '../../src/sim/revocation-responders.js';

const guard = AddressGuard.fromList('127.81.2.0/24');

const responders = await startRevocationResponders({ host: '127.81.2.10' });
t.teardown(() => responders.close());
const pki = await createSimPki({ ...responders.pkiUrls, name: 'containment' });
responders.setPki(pki);

/** The server of the bad CRLs; the good ones (the intermediate's CRL, OCSP for both) come from the responders. */
const bad = new Map<string, Buffer>();
const server = createServer((req, res) => {
  const body = bad.get(req.url ?? '');
  if (body) res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(body);
  else res.writeHead(404).end();
});
await new Promise<void>((resolve) => server.listen(0, '127.81.2.11', resolve));
t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
const badBase = `http://127.81.2.11:${(server.address() as AddressInfo).port}`;

/**
 * A CRL whose entry for `serialHex` carries a reasonCode that is not an ENUMERATED (an OCTET STRING):
 * @peculiar's lazy CRL entry getter throws AsnSchemaValidationError on it when the reason is read,
 * which the CRL check did outside its try blocks (issue 14). Signed by a key that is not the CA's, so
 * no parser, however lenient, can make it an authoritative "revoked".
 */
async function crlWithMalformedReason(serialHex: string): Promise<Buffer> {
  const rogue = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const crl = await x509.X509CrlGenerator.create({
    issuer: pki.intermediate.cert.subjectName, thisUpdate: new Date(Date.now() - 60_000), nextUpdate: new Date(Date.now() + 86_400_000),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, signingKey: rogue.privateKey,
    entries: [{ serialNumber: serialHex, revocationDate: new Date(Date.now() - 120_000),
      extensions: [new x509.Extension('2.5.29.21', false, new Uint8Array([0x04, 0x01, 0x01]))] }],
  });
  return Buffer.from(crl.rawData);
}

async function checkWithLeafCrl(path: string, body: (serialHex: string) => Promise<Buffer> | Buffer) {
  const leaf = await pki.issueLeaf({ hostnames: ['contained.sim.test'], crlUrls: [`${badBase}${path}`] });
  bad.set(path, await body(leaf.serialHex));
  return checkChainRevocation([leaf.certPem, pki.intermediatePem], {
    guard, timeoutMs: 5000, subject: 'gateway', cache: new RevocationCache(), extraCertificatesPem: [pki.rootPem],
  });
}

for (const [name, path, body] of [
  ['bytes that start like DER but are no CRL', '/garbled.crl', () => Buffer.from([0x30, 0x82, 0x01, 0x00, 0x30, 0x03, 0x02, 0x01, 0x01])],
  ['a CRL whose entry for the leaf has a malformed reason code (the parser threw on it)', '/bad-reason.crl', crlWithMalformedReason],
] as const) {
  t.test(name, async (t) => {
    const result = await checkWithLeafCrl(path, body);
    t.equal(result.error, undefined, 'no chain-level error: the chain keeps its results');
    t.equal(result.certificates.length, 3, 'leaf, intermediate, root');
    const [leaf, intermediate, root] = result.certificates;

    // The bad line: that URL for that certificate, and nothing else.
    t.equal(leaf?.crl.length, 1);
    const line = leaf?.crl[0];
    t.equal(line?.url, `${badBase}${path}`);
    t.equal(line?.ok, false, 'the malformed CRL gives no usable answer');
    t.ok(line?.error?.code === 'PARSE_ERROR' || line?.signature === 'invalid',
      `an error on this line (${line?.error?.code ?? `signature ${line?.signature ?? '?'}`}: ${line?.error?.message ?? ''})`);

    // The other lines keep their results.
    t.match(leaf?.ocsp, [{ ok: true, status: 'good', signature: 'valid' }], 'the leaf\'s OCSP answer is intact');
    t.equal(leaf?.status, 'good', 'so the leaf is still known to be good');
    t.match(intermediate?.crl, [{ ok: true, status: 'good', signature: 'valid', url: responders.urls.rootCrl }]);
    t.match(intermediate?.ocsp, [{ ok: true, status: 'good' }]);
    t.equal(intermediate?.status, 'good');
    t.equal(root?.selfSigned, true);
    t.equal(result.ok, true, 'every certificate below the root has a verified good status');

    const findings = revocationFindings({ chains: [result], endpoints: [] });
    t.ok(findings.length >= 1, 'the bad CRL is reported');
    t.ok(findings.every((f) => f.evidence.includes(`${badBase}${path}`) && f.evidence.includes('leaf')),
      `every finding is about that one line: ${findings.map((f) => `${f.id} ${f.evidence}`).join(' | ')}`);
    t.notOk(findings.some((f) => f.id === 'REV-001'), 'nothing is claimed revoked');
    const checks = revocationChecks({ chains: [result], endpoints: [] });
    t.equal(checks.find((c) => c.name === `CRL ${badBase}${path}`)?.status === 'pass', false);
    t.equal(checks.filter((c) => c.name.startsWith('OCSP ')).every((c) => c.status === 'pass'), true, 'the OCSP lines still pass');
  });
}
