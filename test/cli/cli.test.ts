// The command line: exit codes, one-line errors for user mistakes, the
// address guard, and the real executable end to end.
import t from 'tap';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../helpers/capture.js';
import { startDnsServer } from '../../src/sim/dns-server.js';
import { buildMiZone } from '../../src/sim/mi-zone.js';
import { certFor, makeGatewayCerts } from '../../src/sim/gateway-certs.js';
import { startTdsGateway } from '../../src/sim/tds-gateway.js';

const run = promisify(execFile);
const LOOPBACK_ONLY = { MIPROBE_ALLOW_CIDRS: '127.0.0.0/8' };

t.test('version and help', async (t) => {
  const version = await runCli(['--version']);
  t.equal(version.code, 0);
  t.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const help = await runCli(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /diagnose <fqdn>/);
  for (const cmd of ['diagnose', 'demo']) {
    const r = await runCli([cmd, '--help']);
    t.equal(r.code, 0, `${cmd} --help exits 0`);
    t.match(r.stdout, new RegExp(`Usage: miprobe ${cmd}`));
  }
  t.equal((await runCli([])).code, 2, 'no command is a usage error');
});

t.test('user mistakes: exit 2, one line naming the problem and the fix, no stack', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['diagnose'], /diagnose needs the instance host name/],
    [['diagnose', 'a.b.database.windows.net', 'c.d.database.windows.net'], /takes one host name, got 2/],
    [['diagnose', '--bogus', 'mi.zone.database.windows.net'], /diagnose: Unknown option '--bogus'/],
    [['diagnose', 'mi_1.zone.database.windows.net', '--dns-server', '127.0.0.1'], /label "mi_1"/],
    [['diagnose', '10.0.0.4', '--dns-server', '127.0.0.1'], /is an IP address/],
    [['diagnose', 'mi.zone.database.windows.net', '--dns-server', 'resolver.example'], /dns\.servers\[0\]: expected an IP address/],
    [['diagnose', 'mi.zone.database.windows.net', '--timeout', 'soon'], /--timeout expects milliseconds/],
    [['diagnose', 'mi.zone.database.windows.net', '--subnet', '10.0.0.0/33', '--dns-server', '127.0.0.1'], /probe\.subnet: expected a CIDR block/],
    [['diagnose', 'mi.zone.database.windows.net', '--config', '/nonexistent/miprobe.yaml'], /cannot read config file \/nonexistent\/miprobe\.yaml/],
    [['demo', '--scenario', 'nope'], /unknown scenario "nope"/],
    [['diagnose', 'mi.zone.database.windows.net', '--dns-server', '127.0.0.1', '--login', 'magic'], /probe\.login: .*"none"\|"dummy"\|"sql"\|"token"/],
    [['diagnose', 'mi.zone.database.windows.net', '--dns-server', '127.0.0.1', '--login', 'sql'], /--login sql needs --user/],
    [['diagnose', 'mi.zone.database.windows.net', '--dns-server', '127.0.0.1', '--login', 'sql', '--user', 'u'], /--login sql needs a password: --password-file <file> or MIPROBE_PASSWORD/],
    [['diagnose', 'mi.zone.database.windows.net', '--dns-server', '127.0.0.1', '--login', 'sql', '--user', 'u', '--password-file', '/nonexistent/pw'], /cannot read the password file \/nonexistent\/pw \(ENOENT\)/],
    [['diagnose', 'mi.zone.database.windows.net', '--dns-server', '127.0.0.1', '--login', 'token'], /--login token needs an access token/],
    [['diagnose', 'mi.zone.database.windows.net', '--dns-server', '127.0.0.1', '--login', 'sql', '--user', 'u', '--password-file', '/etc'], /cannot read the password file \/etc \(EISDIR\)/],
    [['diagnose', 'mi.zone.database.windows.net', '--dns-server', '127.0.0.1', '--ca-file', '/etc/hostname'], /the CA file \/etc\/hostname holds no PEM certificate/],
    [['diagnose', 'mi.zone.database.windows.net', '--dns-server', '127.0.0.1', '--scan-ports', '70000'], /--scan-ports: "70000" is outside 1-65535/],
    [['diagnose', 'mi.zone.database.windows.net', '--dns-server', '127.0.0.1', '--revocation-url', 'not a url'], /probe\.revocationUrls\[0\]/],
  ];
  for (const [argv, pattern] of cases) {
    const r = await runCli(argv, LOOPBACK_ONLY);
    t.equal(r.code, 2, `${argv.join(' ')}: exit 2`);
    t.match(r.stderr, pattern, `${argv.join(' ')}: message`);
    t.notMatch(r.stderr, /\n\s+at /, `${argv.join(' ')}: no stack trace`);
    t.equal(r.stdout, '', `${argv.join(' ')}: nothing on stdout`);
  }
});

t.test('the guard stops traffic to resolvers outside the allowed ranges before any packet', async (t) => {
  const zone = buildMiZone({ miName: 'mi1', zoneId: 'z1', region: 'r', ilbAddress: '10.0.0.4' });
  const outside = await startDnsServer({ host: '127.111.0.53', port: 0, records: zone });
  const inside = await startDnsServer({ host: '127.111.1.53', port: 0, records: zone });
  t.teardown(() => Promise.all([outside.close(), inside.close()]));
  // One resolver outside the ranges: reported (DNS-014), not asked; the other is.
  const r = await runCli(['diagnose', 'mi1.z1.database.windows.net', '--json', '--dns-server', `127.111.0.53:${outside.endpoint.port}`,
    '--dns-server', `127.111.1.53:${inside.endpoint.port}`, '--allow-cidr', '127.111.1.0/24', '--no-revocation'], {});
  const report = JSON.parse(r.stdout) as { findings: Array<{ id: string }>; dns: Array<{ error?: { code: string } }> };
  t.equal(report.dns[0]?.error?.code, 'GUARD_DENIED');
  t.ok(report.findings.some((f) => f.id === 'DNS-014'));
  t.equal(outside.queryCount(), 0, 'the server outside the ranges saw no query');
  t.ok(inside.queryCount() > 0, 'the one inside was asked');
  // None inside: nothing could be looked up, so nothing runs: a usage error naming the resolvers and the fix.
  const none = await runCli(['diagnose', 'mi1.z1.database.windows.net', '--json', '--dns-server', `127.111.0.53:${outside.endpoint.port}`,
    '--allow-cidr', '10.0.0.0/8'], {});
  t.equal(none.code, 2);
  const error = JSON.parse(none.stdout) as { error: { message: string; fix: string } };
  t.equal(error.error.message, `dns.servers: no resolver can be queried: 127.111.0.53:${outside.endpoint.port} is outside the allowed ranges (10.0.0.0/8)`);
  t.match(error.error.fix, /add the resolvers to allowCidrs/);
  t.equal(outside.queryCount(), 0, 'still no query');
});

t.test('diagnose against a simulated resolver and gateway: exit code follows the verdict', async (t) => {
  const fqdn = 'mi1.z1.database.windows.net';
  const records = buildMiZone({ miName: 'mi1', zoneId: 'z1', region: 'r', ilbAddress: '127.111.1.4', managementAddress: '127.111.1.9' });
  const server = await startDnsServer({ host: '127.111.1.53', port: 0, records });
  t.teardown(() => server.close());
  const certs = await makeGatewayCerts([fqdn]);
  const gateway = await startTdsGateway({ host: '127.111.1.4', port: 1433, ...certFor(certs, 'valid'), instanceName: fqdn });
  t.teardown(() => gateway.close());
  const dir = t.testdir({ 'c.yaml': 'dns:\n  requiredNames: []\nprobe:\n  revocation: false\n', 'ca.pem': certs.caPem });
  const base = ['--dns-server', `127.111.1.53:${server.endpoint.port}`, '--timeout', '1500', '--ca-file', join(dir, 'ca.pem')];

  const withCoverage = await runCli(['diagnose', fqdn, ...base, '--subnet', '127.111.1.0/24', '--no-revocation'], LOOPBACK_ONLY);
  t.equal(withCoverage.code, 1, 'the default required-name list is not served, so DNS-009 (critical)');
  t.match(withCoverage.stdout, /DNS-009/);
  t.match(withCoverage.stdout, /\[PASS\] DNS 127\.111\.1\.53:\d+ \(custom\)/);

  const clean = await runCli(['diagnose', fqdn, ...base, '--subnet', '127.111.1.0/24', '--config', join(dir, 'c.yaml')], LOOPBACK_ONLY);
  t.equal(clean.code, 0, clean.stdout);
  t.match(clean.stdout, /Verdict: HEALTHY/);
  t.match(clean.stdout, /\[PASS\] TLS\s+TLSv1\.2/);
  t.notMatch(clean.stdout, /\u001b\[/, 'no colour when not a TTY');
  t.equal(gateway.stats.prelogins > 0, true, 'the gateway saw the PRELOGIN');

  const wrongSubnet = await runCli(['diagnose', fqdn, ...base, '--subnet', '127.111.2.0/24', '--json', '--config', join(dir, 'c.yaml')], LOOPBACK_ONLY);
  t.equal(wrongSubnet.code, 1);
  const doc = JSON.parse(wrongSubnet.stdout) as { verdict: string; findings: Array<{ id: string; evidence: string }> };
  t.equal(doc.verdict, 'failing');
  t.same(doc.findings.map((f) => f.id), ['DNS-003']);
  t.match(doc.findings[0]?.evidence, /127\.111\.1\.4 .*not in subnet 127\.111\.2\.0\/24/);
});

t.test('the installed executable runs the demo', async (t) => {
  const bin = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'launch.cjs');
  // A longer deadline than the demo's 1.5 s: CI runs two test files at once on two cores, and a slow
  // machine must not turn the healthy demo into REV-002 (seen once under that load).
  const { stdout } = await run(process.execPath, [bin, 'demo', '--json', '--timeout', '5000'], { env: { ...process.env, ...LOOPBACK_ONLY }, timeout: 30_000 });
  const report = JSON.parse(stdout) as { verdict: string; schemaVersion: number; target: { fqdn: string } };
  t.equal(report.verdict, 'healthy');
  t.equal(report.schemaVersion, 1);
  t.equal(report.target.fqdn, 'sim-mi.0a1b2c3d4e5f.database.windows.net');
  const failing = await run(process.execPath, [bin, 'demo', '--scenario', 'dns-nxdomain'], { env: { ...process.env, ...LOOPBACK_ONLY } })
    .then(() => 0, (err: { code: number; stdout: string }) => { t.match(err.stdout, /DNS-001/); return err.code; });
  t.equal(failing, 1, 'a critical finding exits 1');
});
