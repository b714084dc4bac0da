// One cause, one critical, over real sockets (the simulated network on 127.119.x):
// the report leads with the broken hop, marks what follows from it, and never turns a
// check that could not run into a critical of its own. And one style: diagnose and
// check-network print the same marks and words; with --json, bad input is JSON too.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runDiagnosis } from '../../src/cli/diagnose.js';
import { loadConfig, mergeLayers } from '../../src/config/load.js';
import { resetLoginRateLimit } from '../../src/probes/login.js';
import { renderText } from '../../src/report/text.js';
import { makeStyle } from '../../src/report/style.js';
import { findScenario } from '../../src/sim/scenarios.js';
import { startSimNetwork } from '../../src/sim/network.js';
import { runCli } from '../helpers/capture.js';

async function diagnose(name: string, block: string) {
  const scenario = findScenario(name);
  if (!scenario) throw new Error(`no scenario ${name}`);
  resetLoginRateLimit();
  const network = await startSimNetwork({ scenario, block });
  try {
    const config = await loadConfig({ env: {}, flags: mergeLayers({ timeoutMs: 5000 }, network.configLayer()) });
    return await runDiagnosis(network.fqdn, config, network.secretsEnv());
  } finally {
    await network.close();
  }
}

t.test('redirect-blocked leads with the blocked node; the driver\'s failure follows from it', async (t) => {
  const report = await diagnose('redirect-blocked', '127.119.1');
  t.same(report.findings.map((f) => [f.id, f.severity, f.causedBy ?? '']), [
    ['REDIRECT-001', 'critical', ''],
    ['LOGIN-007', 'info', 'REDIRECT-001'],
    ['REDIRECT-005', 'info', ''],
  ]);
  t.match(report.findings[0]?.evidence, /ECONNREFUSED/, 'the cause says what the socket said');
  t.match(report.findings[1]?.evidence, /ECONNREFUSED/, 'so does the consequence');
  t.equal(report.verdict, 'failing');
  const text = renderText(report, makeStyle(false));
  t.match(text, /\n {4}INFO LOGIN-007 .* \(follows from REDIRECT-001\)\n/, 'the text shows the consequence under its cause');
});

t.test('an untrusted chain (a TLS-inspecting middlebox) is one critical, not five', async (t) => {
  const report = await diagnose('cert-untrusted', '127.119.2');
  t.same(report.findings.map((f) => [f.id, f.severity, f.causedBy ?? '']), [
    ['TLS-002', 'critical', ''],
    ['LOGIN-009', 'info', 'TLS-002'],
  ]);
  t.match(report.checks.find((c) => c.name === 'Certificate revocation'),
    { status: 'skip', detail: /^not reached: the gateway chain leads to no trusted root/, causedBy: 'TLS-002' },
    'the middlebox\'s chain is not checked for revocation (it is not the CA\'s)');
});

t.test('a check that could not run is "not reached because X", never its own critical', async (t) => {
  const report = await diagnose('dns-nxdomain', '127.119.3');
  t.same(report.findings.filter((f) => f.severity === 'critical').map((f) => f.id), ['DNS-001']);
  t.match(report.checks.find((c) => c.name === 'Gateway (TCP, PRELOGIN, TLS)'), { status: 'skip', causedBy: 'DNS-001' });
});

t.test('one style: diagnose and check-network share marks, words and verdict', async (t) => {
  const report = await diagnose('redirect-blocked', '127.119.4');
  const diagnoseText = renderText(report, makeStyle(false));
  const fixtures = join(import.meta.dirname, '..', 'fixtures', 'network');
  const network = await runCli(['check-network', '--subnet-file', join(fixtures, 'subnet.json'), '--nsg-file', join(fixtures, 'nsg-legacy-no-management-in.json')]);
  for (const [name, text] of [['diagnose', diagnoseText], ['check-network', network.stdout]] as const) {
    t.match(text, /\n {2}\[(PASS|FAIL|WARN|SKIP|INFO)\] /, `${name}: [MARK] check lines`);
    t.match(text, /\n {4}seen: /, `${name}: evidence as "seen:"`);
    t.match(text, /\n {4}fix: {2}/, `${name}: "fix:"`);
    t.match(text, /\nVerdict: FAILING {2}\d+ critical, \d+ warning, \d+ info/, `${name}: the verdict line`);
    t.notMatch(text, /evidence:|\[critical\]|Verdict: failing/, `${name}: none of the other style`);
  }
});

t.test('--json: the same envelope for both commands, and for bad input', async (t) => {
  const fixtures = join(import.meta.dirname, '..', 'fixtures', 'network');
  const network = JSON.parse((await runCli(['check-network', '--subnet-file', join(fixtures, 'subnet.json'), '--json'])).stdout) as Record<string, unknown>;
  const report = await diagnose('healthy', '127.119.5');
  for (const doc of [network, report as unknown as Record<string, unknown>]) {
    t.match(doc, { schemaVersion: 1, kind: /^(diagnose|check-network)$/, tool: { name: 'miprobe' }, verdict: /^(healthy|degraded|failing)$/ });
    t.ok(Array.isArray(doc.checks) && Array.isArray(doc.findings));
  }
  for (const argv of [['diagnose', 'not a host', '--json'], ['check-network', '--json'], ['diagnose', 'mi1.z1.database.windows.net', '--json', '--timeout', 'soon']]) {
    const r = await runCli(argv);
    t.equal(r.code, 2, `${argv.join(' ')}: exit 2`);
    const doc = JSON.parse(r.stdout) as { kind: string; error: { message: string }; exitCode: number };
    t.match(doc, { schemaVersion: 1, kind: 'error', tool: { name: 'miprobe' }, command: argv[0], exitCode: 2 }, `${argv.join(' ')}: a JSON error object on stdout`);
    t.ok(doc.error.message.length > 0 && r.stderr.includes(doc.error.message), 'the same message as on stderr');
  }
});

t.test('--verbose: each check as it ends, on stderr, in the table\'s words', async (t) => {
  const scenario = findScenario('dns-nxdomain');
  if (!scenario) throw new Error('no scenario dns-nxdomain');
  const network = await startSimNetwork({ scenario, block: '127.119.6' });
  t.teardown(() => network.close());
  const dir = await mkdtemp(join(tmpdir(), 'miprobe-verbose-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'config.json');
  await writeFile(config, JSON.stringify(network.configLayer()));
  const r = await runCli(['diagnose', network.fqdn, '--config', config, '--verbose', '--timeout', '5000'], network.secretsEnv());
  t.equal(r.code, 1, 'DNS-001 is critical');
  const notes = r.stderr.split('\n').filter((l) => l.startsWith('miprobe: '));
  t.ok(notes.some((l) => /^miprobe: check ran check="names" seconds=[\d.]+ findings=\["DNS-001"\]$/.test(l)), 'the check that ran, with its findings');
  t.ok(notes.some((l) => l === 'miprobe: check not reached check="gateway" because="the instance name did not resolve to an address" cause="DNS-001"'),
    'the check that could not run, and why');
  t.ok(notes.some((l) => l === 'miprobe: check off check="login" because="not asked for (--login none)"'), 'the check that was off');
  t.notMatch(r.stderr, /password|MIPROBE_PASSWORD/i, 'no secret');
  const quiet = await runCli(['diagnose', network.fqdn, '--config', config, '--timeout', '5000'], network.secretsEnv());
  t.equal(quiet.stderr, '', 'without --verbose, nothing on stderr');
});
