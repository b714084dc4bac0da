// --https-url: the chain an HTTPS endpoint presents is checked for revocation
// like the gateway's, over real TLS and HTTP on loopback.
import t, { type Test } from 'tap';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { findingsOfRun } from '../../src/checks/by-group.js';
import { diagnose } from '../../src/checks/diagnose.js';
import { testContext } from '../helpers/context.js';
import { parseTarget } from '../../src/diagnosis/target.js';
import { AddressGuard } from '../../src/net/guard.js';
import { startDnsServer } from '../../src/sim/dns-server.js';
import { buildMiZone } from '../../src/sim/mi-zone.js';
import { REVOCATION_SCENARIOS } from '../../src/sim/revocation-responders.js';

const HOST = 'vault.sim.example';

async function httpsServer(address: string, certPem: string, chainPem: readonly string[], keyPem: string) {
  const server = createServer({ cert: chainPem.length ? chainPem.join('\n') : certPem, key: keyPem }, (_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

async function run(t: Test, scenarioName: string, block: string, urlFor: (port: number) => string) {
  const scenario = REVOCATION_SCENARIOS.find((s) => s.name === scenarioName);
  if (!scenario) throw new Error(scenarioName);
  const pki = await scenario.setup({ host: `${block}.80`, hostnames: [HOST] });
  t.teardown(() => pki.close());
  const { server, port } = await httpsServer(`${block}.10`, pki.leaf.certPem, pki.chainPem, pki.leaf.keyPem);
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const dns = await startDnsServer({ host: `${block}.53`, port: 0, records: [
    ...buildMiZone({ miName: 'mi1', zoneId: 'z1', region: 'r', ilbAddress: '10.0.0.4', managementAddress: '192.0.2.9' }),
    { name: HOST, type: 'A', data: `${block}.10` },
  ] });
  t.teardown(() => dns.close());
  const report = await diagnose({
    target: parseTarget('mi1.z1.database.windows.net'), requiredNames: [], checks: new Set(['revocation']),
    revocationUrls: [], httpsUrls: [urlFor(port)], dataPath: { login: 'none', strict: false, public: false, ca: pki.pki.caPem },
  }, testContext(AddressGuard.fromList('127.0.0.0/8'), 3000, { resolvers: [{ endpoint: dns.endpoint, role: 'custom' }] }));
  // The gateway's handshake runs for the revocation check (its chain); the guard refuses 10.0.0.4, which is
  // the data path's finding (TCP-004), not the revocation check's.
  t.same(report.findings.filter((f) => f.check === 'gateway').map((f) => f.id), ['TCP-004']);
  return { ...report, findings: findingsOfRun(report.findings, new Set(['revocation'])) };
}

t.test('a good HTTPS chain is checked and passes', async (t) => {
  const report = await run(t, 'good', '127.112.1', (port) => `https://${HOST}:${port}/`);
  t.equal(report.revocation?.chains.length, 1);
  t.match(report.revocation?.chains[0], { ok: true, subject: `https://${HOST}:` });
  t.match(report.checks.find((c) => c.name === `HTTPS ${HOST}`), { status: 'pass', detail: /chain of 2 read/ });
  t.same(report.findings.map((f) => f.id), []);
});

t.test('a revoked HTTPS certificate is critical', async (t) => {
  const report = await run(t, 'revoked-crl', '127.112.2', (port) => `https://${HOST}:${port}/`);
  t.same(report.findings.map((f) => f.id), ['REV-001']);
  t.match(report.findings[0]?.evidence, /https:\/\/vault\.sim\.example/);
});

t.test('an HTTPS endpoint that cannot be reached is a warning, not silence', async (t) => {
  const report = await run(t, 'good', '127.112.3', () => `https://${HOST}:9/`);
  t.same(report.findings.map((f) => f.id), ['REV-011']);
  t.match(report.findings[0]?.evidence, /TCP_REFUSED/);
  t.equal(report.revocation?.chains.length, 0);
});

t.test('an HTTPS URL with an IP address needs no DNS', async (t) => {
  const report = await run(t, 'good', '127.112.4', (port) => `https://127.112.4.10:${port}/`);
  t.equal(report.revocation?.chains.length, 1, 'the chain was read and checked');
  t.match(report.checks.find((c) => c.name === 'HTTPS 127.112.4.10'), { status: 'pass' });
});
