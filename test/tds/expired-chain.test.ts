// An expired intermediate behind a valid leaf: OpenSSL says CERT_HAS_EXPIRED, and the finding
// must name the intermediate and its date, not the leaf's. A plain TLS server (TDS 8 strict is
// TLS first) presents the chain; the PRELOGIN that follows is not the point here.
import t from 'tap';
import { createServer } from 'node:tls';
import { probeDataPath } from '../../src/probes/datapath.js';
import { testContext } from '../helpers/context.js';
import { AddressGuard } from '../../src/net/guard.js';
import { createSimPki } from '../../src/sim/pki.js';

const DAY = 86_400_000;
const HOST = 'mi1.0a1b2c3d4e5f.database.windows.net';

t.test('an expired intermediate is reported as the intermediate, with its own date', async (t) => {
  const now = Date.now();
  const notAfter = new Date(now - 2 * DAY);
  const pki = await createSimPki({ name: 'stale', intermediateValidity: { notBefore: new Date(now - 400 * DAY), notAfter } });
  const leaf = await pki.issueLeaf({ hostnames: [HOST], withRevocationInfo: false });
  const server = createServer({ key: leaf.keyPem, cert: leaf.chainPem, ALPNProtocols: ['tds/8.0'] }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.14', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  const r = await probeDataPath({ host: HOST, address: '127.0.0.14', port, strict: true, ca: pki.caPem },
    testContext(AddressGuard.fromList(['127.0.0.0/8']), 3000));
  const tls = r.tls;
  t.ok(tls && !tls.ok, 'TLS is not accepted');
  if (!tls || tls.ok) return;
  t.equal(tls.code, 'TLS_EXPIRED');
  t.equal(tls.info?.expired, false, 'the leaf itself is in date');
  t.match(tls.message, /^the intermediate certificate "CN=stale Issuing CA 01, O=miprobe simulation" expired on /);
  t.ok(tls.message.endsWith(`expired on ${new Date(Math.floor(notAfter.getTime() / 1000) * 1000).toISOString()}`), `the intermediate's date: ${tls.message}`);
});
