// The cache (repeated checks cost no fetch until nextUpdate, injectable
// clock), OCSP details (GET, nonce, unauthorised signers), RSA keys and the
// address guard on revocation URLs (127.80.4.0/24).
import t from 'tap';
import { AddressGuard } from '../../src/net/guard.js';
import { RevocationCache } from '../../src/net/pki/cache.js';
import { x509 } from '../../src/net/pki/crypto.js';
import { buildOcspRequest, checkOcsp, evaluateOcspResponse, ocspGetUrl } from '../../src/net/pki/ocsp.js';
import { checkChainRevocation } from '../../src/net/pki/revocation.js';
import { revocationFindings } from '../../src/diagnosis/revocation-rules.js';
import { createSimPki } from '../../src/sim/pki.js';
import { startRevocationResponders } from '../../src/sim/revocation-responders.js';

const guard = AddressGuard.fromList('127.80.4.0/24');
const DAY = 86_400_000;

t.test('repeated checks are served from the cache until nextUpdate', async (t) => {
  let clock = Date.now();
  const responders = await startRevocationResponders({ host: '127.80.4.10' });
  t.teardown(() => responders.close());
  const pki = await createSimPki({ ...responders.pkiUrls, now: () => new Date(clock) });
  responders.setPki(pki);
  const leaf = await pki.issueLeaf({ hostnames: ['cache.sim.test'] });
  const cache = new RevocationCache({ now: () => clock });
  const opts = { guard, timeoutMs: 3000, cache };
  const first = await checkChainRevocation([leaf.chainPem], opts);
  t.equal(first.ok, true);
  const fetched = responders.requests.length;
  t.equal(fetched, 5, 'two CRLs, two OCSP answers and the root from CA issuers');
  t.equal(first.certificates[1]?.issuerSource, 'aia');
  t.equal(first.certificates[1]?.issuerIsRoot, true);
  // REV-009 (slow) depends on the machine's load, not on what is checked here.
  t.same(revocationFindings({ chains: [first], endpoints: [] }).filter((f) => f.id !== 'REV-009'), [], 'fetching a root is no finding');
  const second = await checkChainRevocation([leaf.chainPem], opts);
  t.equal(second.ok, true);
  t.equal(responders.requests.length, fetched, 'no request the second time');
  t.ok(second.certificates.slice(0, 2).every((c) => [...c.crl, ...c.ocsp].every((s) => s.cached)), 'every source says cached');
  t.ok(second.issuerFetches.every((f) => f.cached));
  t.ok(cache.hits >= 4);

  // Revoked meanwhile: still "good" from the cache (that is the contract) until nextUpdate passes.
  pki.revoke(leaf.serialHex, 'superseded');
  clock += 2 * DAY;
  const third = await checkChainRevocation([leaf.chainPem], opts);
  t.equal(responders.requests.length, 2 * fetched, 'fetched again after nextUpdate');
  t.equal(third.certificates[0]?.status, 'revoked');
  t.equal(third.certificates[0]?.revocation?.reason, 'superseded');
});

t.test('OCSP: GET for small requests, nonce handling, unauthorised signers, RSA', async (t) => {
  const responders = await startRevocationResponders({ host: '127.80.4.20' });
  t.teardown(() => responders.close());
  const pki = await createSimPki({ ...responders.pkiUrls, algorithm: 'rsa' });
  responders.setPki(pki);
  const leaf = await pki.issueLeaf({ hostnames: ['rsa.sim.test'] });
  const cert = new x509.X509Certificate(leaf.certPem);
  const issuer = pki.intermediate.cert;

  const get = await checkOcsp(responders.urls.ocsp, cert, issuer, 'k', { guard, timeoutMs: 3000, nonce: false });
  t.equal(get.method, 'GET', 'a request without nonce is small enough for GET');
  t.equal(get.status, 'good');
  t.equal(get.signature, 'valid', 'RSA signature verifies');
  t.equal(get.signer, 'delegated');
  t.equal(get.nonce, 'not-sent');
  t.ok(responders.requests.some((r) => r.method === 'GET' && r.path.startsWith('/ocsp/')));
  const req = buildOcspRequest(cert, issuer, { nonce: false });
  t.ok(ocspGetUrl(responders.urls.ocsp, req.der).length <= 255);

  const post = await checkOcsp(responders.urls.ocsp, cert, issuer, 'k', { guard, timeoutMs: 3000 });
  t.equal(post.method, 'POST');
  t.equal(post.nonce, 'match');

  const withNonce = buildOcspRequest(cert, issuer, { nonce: true });
  const now = new Date();
  const wrong = await evaluateOcspResponse(await pki.ocspRespond(withNonce.der, { nonce: 'wrong' }),
    { certId: withNonce.certId, issuer, now, ...(withNonce.nonce ? { nonce: withNonce.nonce } : {}) });
  t.equal(wrong.nonce, 'mismatch');
  t.equal(wrong.ok, false);
  const absent = await evaluateOcspResponse(await pki.ocspRespond(withNonce.der, { nonce: false }),
    { certId: withNonce.certId, issuer, now, ...(withNonce.nonce ? { nonce: withNonce.nonce } : {}) });
  t.equal(absent.nonce, 'absent', 'a responder may ignore the nonce');
  t.equal(absent.ok, true);

  // A response about our certificate signed by another PKI's delegated responder.
  const other = await createSimPki({ name: 'other' });
  const foreign = await other.ocspRespond(withNonce.der);
  const forged = await evaluateOcspResponse(foreign, { certId: withNonce.certId, issuer, now });
  t.equal(forged.signature, 'invalid');
  t.equal(forged.signer, 'unauthorised');
  t.match(forged.signatureDetail ?? '', /not issued by the certificate's issuer/);

  const garbage = await evaluateOcspResponse(Buffer.from('<html>hello</html>'), { certId: withNonce.certId, issuer, now });
  t.equal(garbage.error?.code, 'PARSE_ERROR');
  const malformed = await evaluateOcspResponse(await pki.ocspRespond(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])),
    { certId: withNonce.certId, issuer, now });
  t.equal(malformed.error?.code, 'OCSP_STATUS');
  t.equal(malformed.responseStatus, 'malformedRequest');
});

t.test('the guard fences revocation URLs; unreadable chains are reported', async (t) => {
  const pki = await createSimPki({ crlUrl: 'http://192.0.2.10/crl', ocspUrl: 'http://192.0.2.10/ocsp' });
  const leaf = await pki.issueLeaf({ hostnames: ['fenced.sim.test'] });
  const r = await checkChainRevocation([leaf.chainPem], { guard, timeoutMs: 1000, extraCertificatesPem: [pki.rootPem] });
  t.equal(r.certificates[0]?.crl[0]?.error?.code, 'GUARD_DENIED');
  t.equal(r.certificates[0]?.ocsp[0]?.error?.code, 'GUARD_DENIED');
  t.equal(r.certificates[0]?.status, 'unchecked');
  t.same(revocationFindings({ chains: [r], endpoints: [] }).map((f) => f.id), [], 'no network finding for a guard refusal');
  const bad = await checkChainRevocation(['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'], { guard, timeoutMs: 1000 });
  t.equal(bad.ok, false);
  t.equal(bad.error?.code, 'PARSE_ERROR');
  const empty = await checkChainRevocation([], { guard, timeoutMs: 1000 });
  t.equal(empty.error?.code, 'PARSE_ERROR');
});
