// One cause, one critical, for the cases an audit found (over real sockets: the simulated network on 127.121.x):
// the cause leads and carries the severity of the break it causes, what follows from it (findings and check
// lines) says so, and a risk is a warning.
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import t from 'tap';
import { runDiagnosis } from '../../src/cli/diagnose.js';
import { loadConfig, mergeLayers } from '../../src/config/load.js';
import type { ConfigLayer } from '../../src/config/schema.js';
import { gatewayLines } from '../../src/diagnosis/datapath-rules.js';
import { encodeMessage, PacketType } from '../../src/net/tds/packet.js';
import { encodePreloginOptions, PreloginToken } from '../../src/net/tds/prelogin.js';
import { probeDataPath } from '../../src/probes/datapath.js';
import { resetLoginRateLimit } from '../../src/probes/login.js';
import { renderText } from '../../src/report/text.js';
import { makeStyle } from '../../src/report/style.js';
import { findScenario } from '../../src/sim/scenarios.js';
import { startSimNetwork, type SimNetwork } from '../../src/sim/network.js';
import { AddressGuard } from '../../src/net/guard.js';
import { testContext } from '../helpers/context.js';

async function diagnose(name: string, block: string, layer: (n: SimNetwork) => ConfigLayer = (n) => n.configLayer()) {
  const scenario = findScenario(name);
  if (!scenario) throw new Error(`no scenario ${name}`);
  resetLoginRateLimit();
  const network = await startSimNetwork({ scenario, block });
  try {
    const config = await loadConfig({ env: {}, flags: mergeLayers({ timeoutMs: 5000 }, layer(network)) });
    return await runDiagnosis(network.fqdn, config, network.secretsEnv());
  } finally {
    await network.close();
  }
}

const summary = (findings: ReadonlyArray<{ id: string; severity: string; causedBy?: string }>) => findings.map((f) => [f.id, f.severity, f.causedBy ?? '']);

t.test('a: Enhanced Routing the driver skips is the critical cause of the login failure', async (t) => {
  const report = await diagnose('redirect-enhanced-routing', '127.121.1');
  t.same(summary(report.findings), [['REDIRECT-007', 'critical', ''], ['LOGIN-007', 'info', 'REDIRECT-007']]);
  t.equal(report.verdict, 'failing');
  t.match(report.checks.find((c) => c.name === 'Login (dummy)'), { status: 'fail', causedBy: 'REDIRECT-007' }, 'g: the login line follows from it too');
  t.match(renderText(report, makeStyle(false)), /\[FAIL\] Login \(dummy\) .* \(follows from REDIRECT-007\)/);
});

t.test('b: a leaf sent without its intermediate leads, as the one critical; TLS-002 follows from it', async (t) => {
  const report = await diagnose('revocation-missing-intermediate', '127.121.2');
  t.same(summary(report.findings), [['REV-008', 'critical', ''], ['TLS-002', 'info', 'REV-008'], ['LOGIN-009', 'info', 'TLS-002']]);
  t.match(report.findings[0]?.evidence, /critical here: TLS-002 shows that the connection fails from this host/);
  const tls = report.findings[1];
  t.match(tls?.evidence, /UNABLE_TO_VERIFY_LEAF_SIGNATURE\); the server sent only its leaf, without its issuer/);
  t.match(tls?.fix, /did not send the intermediate/);
  t.notMatch(tls?.fix, /TLS-inspecting proxy, or/, 'not the middlebox advice');
  t.match(report.checks.find((c) => c.name === 'TLS'), { status: 'fail', causedBy: 'REV-008' });
});

t.test('c: revocation hosts the custom resolver cannot resolve follow from DNS-009', async (t) => {
  const report = await diagnose('custom-dns-missing', '127.121.3');
  t.same(summary(report.findings), [['DNS-009', 'critical', ''], ['REV-002', 'info', 'DNS-009']]);
  t.match(report.findings[1]?.evidence, /crl\.microsoft\.com.*ocsp\.digicert\.com/);
  t.match(report.findings[1]?.fix, /^Follows from DNS-009/);
  const endpoints = report.checks.filter((c) => c.name.startsWith('Revocation endpoint') && c.status !== 'pass');
  t.equal(endpoints.length, 2);
  t.ok(endpoints.every((c) => c.causedBy === 'DNS-009'), 'their check lines follow from DNS-009');
});

t.test('d: answers with a bad signature are one warning (status unknown), not three criticals', async (t) => {
  const report = await diagnose('revocation-bad-signature', '127.121.4');
  t.same(summary(report.findings), [['REV-005', 'warning', ''], ['LOGIN-012', 'info', '']]);
  t.equal(report.verdict, 'degraded');
  const evidence = report.findings[0]?.evidence ?? '';
  t.match(evidence, /^4 answers \(/);
  t.match(evidence, /leaf "CN=\*\.0a1b2c3d4e5f/);
  t.match(evidence, /intermediate "CN=sim bad-signature Issuing CA 01/);
});

t.test('e: a silent first resolver with a working one is a warning; the path works', async (t) => {
  const dead = createSocket('udp4');
  dead.on('message', () => { /* never answers */ });
  dead.bind(0, '127.121.9.53');
  await once(dead, 'listening');
  t.teardown(() => dead.close());
  const deadServer = `127.121.9.53:${dead.address().port}`;
  const report = await diagnose('healthy', '127.121.5', (n) => {
    const layer = n.configLayer() as { dns: { servers: string[] } } & ConfigLayer;
    return { ...layer, dns: { ...layer.dns, servers: [deadServer, ...layer.dns.servers] } };
  });
  const dns2 = report.findings.find((f) => f.id === 'DNS-002');
  t.match(dns2, { severity: 'warning', evidence: /answered, so clients fail over after a timeout/ });
  t.match(dns2?.fix, /slowly/);
  t.ok(report.findings.some((f) => f.id === 'LOGIN-012'), 'the login proved the path');
  t.equal(report.verdict, 'degraded');
  t.notOk(report.findings.some((f) => f.severity === 'critical'));
});

t.test('e: one resolver that does not answer stays critical', async (t) => {
  const report = await diagnose('dns-timeout', '127.121.6');
  t.same(summary(report.findings), [['DNS-002', 'critical', '']]);
});

t.test('f: a warning whose consequence breaks the connection from here is critical (strict only, TDS 7.x login fails)', async (t) => {
  const report = await diagnose('strict-only', '127.121.7');
  t.same(summary(report.findings), [['TDS-004', 'critical', ''], ['LOGIN-007', 'info', 'TDS-004']]);
  t.equal(report.verdict, 'failing');
  t.match(report.findings[0]?.evidence, /critical here: LOGIN-007/);
});

t.test('g: the check line of a consequence says what it follows from', async (t) => {
  const blocked = await diagnose('redirect-blocked', '127.121.8');
  t.match(blocked.checks.find((c) => c.name === 'Login (dummy)'), { status: 'fail', causedBy: 'REDIRECT-001' });
  t.notOk(blocked.checks.find((c) => c.name === 'Redirect')?.causedBy, 'the cause\'s own line is not a consequence');
  const untrusted = await diagnose('cert-untrusted', '127.121.10');
  t.match(untrusted.checks.find((c) => c.name === 'Login (dummy)'), { status: 'fail', causedBy: 'TLS-002' });
  t.notOk(untrusted.checks.find((c) => c.name === 'TLS')?.causedBy);
});

t.test('h: PRELOGIN options with tokens MS-TDS does not define are shown raw in the check line', async (t) => {
  const server = createServer((socket: Socket) => {
    socket.once('data', () => {
      socket.end(encodeMessage(PacketType.TABULAR_RESULT, encodePreloginOptions([
        [PreloginToken.VERSION, Buffer.from('0c0007d00008', 'hex')],
        [PreloginToken.ENCRYPTION, Buffer.from('01', 'hex')],
        [0x0c, Buffer.from('aabbcc', 'hex')],
      ])));
    });
    socket.on('error', () => { /* the probe may reset */ });
  });
  server.listen(0, '127.121.11.4');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const path = await probeDataPath({ host: 'mi1.0a1b2c3d4e5f.database.windows.net', address: '127.121.11.4', port: address.port },
    testContext(AddressGuard.fromList(['127.0.0.0/8']), 5000));
  const line = gatewayLines(path).find((l) => l.name === 'PRELOGIN');
  t.match(line?.detail, /unknown option 0x0c \(3 bytes: aabbcc\)/);
});
