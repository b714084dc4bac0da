// A CRL's signature is checked over the bytes as received, for ECDSA and RSA issuers: the CA's
// own CRL verifies, one signed by another key does not, and a CRL of another CA is refused by name.
import t from 'tap';
import { createServer, type Server } from 'node:http';
import { AddressGuard } from '../../src/net/guard.js';
import { checkCrl } from '../../src/net/pki/crl.js';
import { x509 } from '../../src/net/pki/crypto.js';
import { createSimPki, type SimKeyAlgorithm } from '../../src/sim/pki.js';

const guard = AddressGuard.fromList(['127.0.0.0/8']);

async function serve(bodies: Record<string, Buffer>): Promise<{ url: (path: string) => string; server: Server }> {
  const server = createServer((req, res) => {
    const body = bodies[req.url ?? ''];
    res.writeHead(body ? 200 : 404, { 'Content-Type': 'application/pkix-crl' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.81', r));
  const port = (server.address() as { port: number }).port;
  return { url: (path) => `http://127.0.0.81:${port}${path}`, server };
}

for (const algorithm of ['ecdsa', 'rsa'] as SimKeyAlgorithm[]) {
  t.test(`${algorithm}: good, forged and foreign CRLs`, async (t) => {
    const pki = await createSimPki({ name: `crl-${algorithm}`, algorithm });
    const other = await createSimPki({ name: `other-${algorithm}`, algorithm });
    const leaf = await pki.issueLeaf({ hostnames: ['a.sim.test'], withRevocationInfo: false });
    const { url, server } = await serve({
      '/good.crl': await pki.crl('intermediate'),
      '/forged.crl': await pki.crl('intermediate', { badSignature: true }),
      '/foreign.crl': await other.crl('intermediate'),
    });
    t.teardown(() => new Promise<void>((r) => server.close(() => r())));
    const issuer = pki.intermediate.cert;
    const cert = new x509.X509Certificate(leaf.certPem);
    const opts = { guard, timeoutMs: 5000 };

    const good = await checkCrl(url('/good.crl'), cert, issuer, 'k', opts);
    t.equal(good.signature, 'valid', 'the CA\'s own CRL verifies');
    t.equal(good.ok, true);
    const forged = await checkCrl(url('/forged.crl'), cert, issuer, 'k', opts);
    t.equal(forged.signature, 'invalid', 'a CRL signed by another key does not');
    t.equal(forged.ok, false);
    const foreign = await checkCrl(url('/foreign.crl'), cert, issuer, 'k', opts);
    t.equal(foreign.ok, false);
    t.equal(foreign.error?.code, 'WRONG_ISSUER', 'another CA\'s CRL is refused by its issuer name');
  });
}
