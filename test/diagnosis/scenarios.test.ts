// Every scenario of the simulated network (DNS, gateway, PKI, management
// ports), diagnosed over real sockets, produces exactly the findings it names.
import t from 'tap';
import { loadConfig, mergeLayers } from '../../src/config/load.js';
import { runDiagnosis } from '../../src/cli/diagnose.js';
import { SCENARIOS, findScenario } from '../../src/sim/scenarios.js';
import { startSimNetwork } from '../../src/sim/network.js';
import { resetLoginRateLimit } from '../../src/probes/login.js';
import { SIM_SQL_LOGIN } from '../../src/sim/tds-scenarios.js';

const BLOCK_BASE = 110; // 127.110.<i>.0/24, one block per scenario

async function diagnoseScenario(name: string, index: number, timeoutMs?: number) {
  const scenario = findScenario(name);
  if (!scenario) throw new Error(`no scenario ${name}`);
  // Each scenario is a new simulated instance; the dummy-login rate limit is per process.
  resetLoginRateLimit();
  const network = await startSimNetwork({ scenario, block: `127.${BLOCK_BASE}.${index}` });
  try {
    const config = await loadConfig({ env: {}, flags: mergeLayers({ timeoutMs: timeoutMs ?? network.suggestedTimeoutMs }, network.configLayer()) });
    return { scenario, network, report: await runDiagnosis(network.fqdn, config, network.secretsEnv()) };
  } finally {
    await network.close();
  }
}

t.test('each scenario yields exactly its expected findings', async (t) => {
  for (const [i, s] of SCENARIOS.entries()) {
    const { report } = await diagnoseScenario(s.name, i);
    const ids = [...new Set(report.findings.map((f) => f.id))].sort();
    t.same(ids, [...s.expectFindings].sort(), `${s.name}: findings`);
    const critical = report.findings.some((f) => f.severity === 'critical');
    t.equal(report.verdict, critical ? 'failing' : report.findings.some((f) => f.severity === 'warning') ? 'degraded' : 'healthy', `${s.name}: verdict`);
  }
});

t.test('healthy: the whole chain, the management endpoint and coverage are reported', async (t) => {
  const { report } = await diagnoseScenario('healthy', 40);
  t.equal(report.verdict, 'healthy');
  t.equal(report.dns.length, 2, 'custom and azure resolvers');
  const custom = report.dns.find((d) => d.role === 'custom');
  t.match(custom, { ok: true, addresses: ['127.110.40.4'], canonicalName: 'tr1234.westeurope1-a.worker.vnet.database.windows.net', transport: 'udp' });
  t.same(custom?.chain.map((h) => [h.name, h.type, h.data, h.ttl]), [
    ['sim-mi.0a1b2c3d4e5f.database.windows.net', 'CNAME', 'tr1234.westeurope1-a.worker.vnet.database.windows.net', 60],
    ['tr1234.westeurope1-a.worker.vnet.database.windows.net', 'A', '127.110.40.4', 60],
  ]);
  t.match(report.managementEndpoint, { present: true, host: 'tr1234.westeurope1-a.worker.database.windows.net', addresses: ['127.110.40.200'] });
  t.equal(report.dnsCoverage.length, 1, 'the azure resolver is not held to the custom-DNS list');
  t.equal(report.dnsCoverage[0]?.checked, 16);
  t.same(report.dnsCoverage[0]?.failures, []);
  t.ok(report.durationSeconds < 3, `took ${report.durationSeconds} s`);
  t.match(report.dataPath, { address: '127.110.40.4', port: 1433, tcp: { ok: true, state: 'open' }, prelogin: { ok: true, encryption: 'ENCRYPT_ON' },
    tls: { ok: true, trusted: true, hostnameMatch: true }, login: { mode: 'dummy', code: 'LOGIN_FAILED', number: 18456 } });
  t.match(report.dataPath?.tls, { chain: [{ pem: /^-----BEGIN CERTIFICATE-----/ }, { pem: /^-----BEGIN CERTIFICATE-----/ }] });
  t.equal(report.managementFirewall?.applicable, true);
  t.equal(report.revocation?.chains.length, 1, 'the gateway chain was checked');
  t.equal(report.revocation?.chains[0]?.ok, true);
  t.equal(report.revocation?.endpoints.length, 8, 'the eight platform endpoints');
  t.ok(report.revocation?.endpoints.every((e) => e.ok), 'all reachable through the simulated DNS and responders');
});

t.test('evidence names what was seen', async (t) => {
  const missing = await diagnoseScenario('custom-dns-missing', 41);
  const f = missing.report.findings.find((x) => x.id === 'DNS-009');
  t.match(f?.evidence, /failed 3 of 16: .*microsoftonline\.com \(DNS_NXDOMAIN\)/);
  t.match(f?.evidence, /ocsp\.digicert\.com/);
  t.match(f?.evidence, /crl\.microsoft\.com/);

  const pub = await diagnoseScenario('dns-public-address', 42);
  t.match(pub.report.findings[0]?.evidence, /203\.0\.113\.10/);

  const noVnet = await diagnoseScenario('no-vnet-label', 43);
  t.match(noVnet.report.managementEndpoint, { present: false, reason: /November 2022/ });

  const truncated = await diagnoseScenario('dns-truncated', 44);
  t.equal(truncated.report.dns[0]?.transport, 'tcp');
  t.same(truncated.report.dns[0]?.addresses, ['127.110.44.4']);
});

t.test('a timeout scenario ends within the deadline, concurrently', async (t) => {
  const started = performance.now();
  const { report } = await diagnoseScenario('dns-timeout', 45, 600);
  t.equal(report.dataPath, undefined, 'no address, no data path');
  // One cause, one critical: what needed the resolver is "not reached because DNS-002", not a finding of its own.
  for (const title of ['Gateway (TCP, PRELOGIN, TLS)', 'Management endpoint name', 'DNS coverage', 'Revocation endpoints', 'Certificate revocation']) {
    t.match(report.checks.find((c) => c.name === title), { status: 'skip', detail: /^not reached: /, causedBy: 'DNS-002' }, `${title}: not reached because DNS-002`);
  }
  t.same(report.findings.map((f) => `${f.id} ${f.severity}`), ['DNS-002 critical'], 'the one finding is the cause');
  t.equal(report.dns[0]?.error?.code, 'DNS_TIMEOUT');
  // The network part: what follows the warm-up (loading code is not on the deadline's clock).
  const probing = report.durationSeconds - (report.host?.warmUpSeconds ?? 0);
  t.ok(probing < 1.5, `probing took ${probing.toFixed(2)} s with a 0.6 s deadline (the whole run ${((performance.now() - started) / 1000).toFixed(2)} s)`);
});

t.test('no secret in the report: a SQL login with a password', async (t) => {
  const { report } = await diagnoseScenario('proxy-healthy-strict', 46);
  t.match(report.dataPath?.login, { mode: 'sql', ok: true, code: 'LOGIN_OK' });
  const text = JSON.stringify(report);
  t.notMatch(text, /"password"/i);
  t.equal(text.includes(SIM_SQL_LOGIN.password), false, 'the password appears nowhere in the document');
});
