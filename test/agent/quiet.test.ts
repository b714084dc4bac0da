// A quiet and coherent agent: one abort listener per signal however many
// operations wait on it (no MaxListenersExceededWarning, nothing on stderr),
// and every logged state agrees with its findings; a check that could not run
// says why ("not reached because ...").
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { getEventListeners } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkStatus, stateKey } from '../../src/agent/check-state.js';
import { Limiter } from '../../src/agent/limiter.js';
import { verdictOf, type Finding } from '../../src/diagnosis/finding.js';
import { onAbort, startDeadline } from '../../src/net/deadline.js';
import { resolve } from '../../src/net/dns/resolve.js';
import { AddressGuard } from '../../src/net/guard.js';
import { startDnsServer } from '../../src/sim/dns-server.js';
import { buildMiZone } from '../../src/sim/mi-zone.js';
import { startSimNetwork } from '../../src/sim/network.js';
import { findScenario, type Scenario } from '../../src/sim/scenarios.js';
import { startAgent, waitFor, writeConfig } from '../helpers/agent.js';
import { FIXTURE_MANAGEMENT, fixtureFinding, fixtureLine, fixtureReport, nameFailedReport, notReachedLine, offLine } from '../helpers/report-fixture.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BLOCK = '127.73.20';
const abortListeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

t.test('one listener on a signal however many operations wait on it', async (t) => {
  const parent = new AbortController();
  const deadlines = Array.from({ length: 200 }, () => startDeadline({ timeoutMs: 60_000, signal: parent.signal }));
  t.equal(abortListeners(parent.signal), 1, '200 deadlines under one signal: one listener');
  for (const d of deadlines.slice(0, 100)) d.done();
  parent.abort(new Error('stop'));
  t.equal(deadlines.slice(100).filter((d) => d.signal.aborted).length, 100, 'the deadlines still waiting abort with it');
  t.equal(deadlines.slice(0, 100).filter((d) => d.signal.aborted).length, 0, 'released ones do not');
  t.equal((deadlines[150]?.signal.reason as Error).message, 'stop', 'with the parent\'s reason');

  const signal = new AbortController();
  const limiter = new Limiter(1);
  const release = await limiter.acquire(signal.signal);
  const waiters = Array.from({ length: 500 }, () => limiter.acquire(signal.signal).then(() => 'granted', () => 'aborted'));
  t.equal(abortListeners(signal.signal), 1, '500 queued runs: one listener');
  release();
  signal.abort();
  const outcomes = await Promise.all(waiters);
  t.equal(outcomes.filter((o) => o === 'granted').length, 1, 'the first waiter got the slot');
  t.equal(outcomes.filter((o) => o === 'aborted').length, 499, 'the others left at shutdown');

  // A callback that throws does not stop the others (as with EventTarget); the error is not lost.
  const c = new AbortController();
  let after = 0;
  onAbort(c.signal, () => { throw new Error('boom'); });
  onAbort(c.signal, () => { after += 1; });
  const thrown = new Promise<Error>((r) => { process.once('uncaughtException', r); });
  c.abort();
  t.equal(after, 1);
  t.equal((await thrown).message, 'boom');
});

t.test('a diagnosis-sized fan-out of lookups under one run signal: no warning', async (t) => {
  const dns = await startDnsServer({ host: `${BLOCK}.53`, port: 0, records: buildMiZone({ miName: 'mi1', zoneId: '0a1b2c3d4e5f', region: 'r', ilbAddress: `${BLOCK}.4` }) });
  t.teardown(() => dns.close());
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => { warnings.push(w); };
  process.on('warning', onWarning);
  t.teardown(() => { process.off('warning', onWarning); });
  const run = new AbortController();
  const lookups = Array.from({ length: 40 }, (_, i) => resolve(i % 2 ? 'mi1.0a1b2c3d4e5f.database.windows.net' : `n${i}.example.com`,
    { servers: [dns.endpoint], guard: AddressGuard.fromList('127.0.0.0/8'), timeoutMs: 3000, signal: run.signal, retries: 0 }));
  t.ok(abortListeners(run.signal) <= 1, `40 concurrent lookups: ${abortListeners(run.signal)} listener on the run's signal`);
  const results = await Promise.all(lookups);
  t.equal(results.filter((r) => r.ok).length, 20);
  await new Promise((r) => setImmediate(r));
  t.same(warnings.map((w) => w.name), [], 'no process warning');
});

t.test('states agree with findings; unmet needs say "not reached because ..." in the check table\'s words', async (t) => {
  const nameFailed = nameFailedReport();
  const management = checkStatus('management', { report: nameFailed });
  t.equal(management.state, 'not-reached', 'the log line of the issue ("failing" with no findings) cannot happen');
  t.equal(management.reason, 'not reached because the instance name did not resolve, so no CNAME target was seen (DNS-001)');
  t.same(management.findings, []);
  t.equal(checkStatus('dataPath', { report: nameFailed }).reason, 'not reached because the instance name did not resolve to an address (DNS-001)');
  t.equal(checkStatus('nameResolution', { report: nameFailed }).state, 'failing');
  t.same(checkStatus('nameResolution', { report: nameFailed }).findings.map((f) => f.id), ['DNS-001']);
  // The platform endpoints were looked up and checked (an NXDOMAIN is an answer), but the chain the gateway serves was not reached.
  t.same(checkStatus('revocation', { report: nameFailed }), { state: 'not-reached', findings: [],
    reason: 'not reached because the instance name did not resolve to an address (DNS-001)' }, 'a part not reached: the check says so');

  // One resolver failed, the other answered: the management check ran, and its ports were fine.
  const oneResolverDown = fixtureReport({ verdict: 'failing', findings: [fixtureFinding('DNS-002', 'critical', 'names')] });
  const m2 = checkStatus('management', { report: oneResolverDown });
  t.equal(m2.state, 'healthy', 'its own findings decide its state, not the name resolution\'s');
  t.equal(stateKey(m2), 'healthy');
  t.same(checkStatus('nameResolution', { report: oneResolverDown }).findings.map((f) => f.id), ['DNS-002']);

  const host = fixtureFinding('HOST-001', 'warning');
  t.same(checkStatus('dataPath', { report: fixtureReport({ findings: [host] }) }).findings.map((f) => f.id), ['HOST-001'], 'the host\'s own finding goes with every check');

  const denied = fixtureReport({
    checks: [fixtureLine('managementPorts', 'Management ports', 'skip', `${FIXTURE_MANAGEMENT} (20.1.1.1): 20.1.1.1 is outside the allowed ranges`)],
    findings: [fixtureFinding('MGMT-004', 'info', 'managementPorts')] });
  t.match(checkStatus('management', { report: denied }).reason, /^not reached because trx\.\S+ \(20\.1\.1\.1\): 20\.1\.1\.1 is outside/, 'a run the guard refused entirely');
  const unresolved = fixtureReport({
    checks: [notReachedLine('managementPorts', 'Management endpoint firewall', `the management endpoint ${FIXTURE_MANAGEMENT} did not resolve`, 'DNS-007')],
    findings: [fixtureFinding('DNS-007', 'warning', 'managementName')] });
  t.equal(checkStatus('management', { report: unresolved }).reason, `not reached because the management endpoint ${FIXTURE_MANAGEMENT} did not resolve (DNS-007)`);
  const newer = fixtureReport({ checks: [offLine('managementPorts', 'Management endpoint firewall', 'no management endpoint to check')],
    findings: [fixtureFinding('DNS-006', 'info', 'managementName')] });
  t.same([checkStatus('management', { report: newer }).state, checkStatus('management', { report: newer }).reason], ['healthy', 'not applicable: no management endpoint to check']);
  const partly = fixtureReport({ checks: [fixtureLine('gateway', 'TCP 1433', 'fail', 'refused'), notReachedLine('login', 'Login', 'the gateway refused or dropped TCP (TCP_REFUSED)', 'TCP-001')],
    findings: [fixtureFinding('TCP-001', 'critical', 'gateway')] });
  t.same([checkStatus('dataPath', { report: partly }).state, checkStatus('dataPath', { report: partly }).reason], ['failing', undefined], 'a check part of which ran is judged by its findings');
  t.same([checkStatus('dataPath', { error: 'DEADLINE_EXCEEDED' }).state, checkStatus('dataPath', { error: 'DEADLINE_EXCEEDED' }).reason], ['error', 'did not complete: DEADLINE_EXCEEDED']);
  t.equal(stateKey({ state: 'healthy', findings: [fixtureFinding('LOGIN-013', 'info')] }), 'healthy', 'info findings that come and go are no state change');
  t.equal(stateKey({ state: 'failing', findings: [fixtureFinding('TLS-001', 'critical'), fixtureFinding('TCP-001', 'critical')] }), 'failing: TCP-001, TLS-001');
});

t.test('an agent watching a healthy and a broken instance: coherent log lines, no warning', async (t) => {
  const sim = await startSimNetwork({ scenario: findScenario('healthy') as Scenario, block: `${BLOCK.slice(0, -3)}.21` });
  t.teardown(() => sim.close());
  const layer = sim.configLayer() as { dns: { servers: string[] }; probe: Record<string, unknown> };
  const missing = sim.fqdn.replace(/^[^.]+/, 'missing');
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => { warnings.push(w); };
  process.on('warning', onWarning);
  t.teardown(() => { process.off('warning', onWarning); });
  const every = { cron: '* * * * * *' };
  const config = await writeConfig({
    ...layer, timeoutMs: sim.suggestedTimeoutMs,
    // A second resolver that is not there: DNS-002 for both instances, yet the healthy one's other checks run and pass.
    dns: { ...layer.dns, servers: [...layer.dns.servers, `${BLOCK}.99:53`], requiredNames: [] },
    probe: { ...layer.probe, login: 'none' },
    instances: [{ fqdn: sim.fqdn }, { fqdn: missing }],
    agent: { listen: `${BLOCK}.1:0`, jitterSeconds: 0, schedules: { nameResolution: every, dataPath: every, management: every, revocation: every } },
  });
  const agent = await startAgent(['--config', config], sim.secretsEnv());
  t.teardown(() => agent.stop());
  // Many concurrent runs and /probe requests over a few seconds: the fan-out that used to warn.
  const probes = Array.from({ length: 6 }, () => fetch(`${agent.url}/probe?target=${sim.fqdn}&module=all`).then((r) => r.text()));
  await Promise.all(probes);
  await waitFor(() => (agent.logs().filter((l) => l.msg === 'check state changed').length >= 8 ? true : undefined), 30_000, 'a first run of every check');
  await new Promise((r) => setTimeout(r, 3000));

  const lines = agent.logs().filter((l) => l.msg === 'check state changed') as Array<{ instance: string; check: string; state: string; reason?: string; findings: Finding[] }>;
  for (const l of lines) {
    if (['healthy', 'degraded', 'failing'].includes(l.state)) {
      t.equal(verdictOf(l.findings), l.state, `${l.instance.split('.')[0]} ${l.check}: the state is what its findings say`);
      const ids = l.findings.map((f) => f.id);
      t.equal(new Set(ids).size, ids.length, `${l.instance.split('.')[0]} ${l.check}: one entry per finding id (${ids.join(', ')})`);
    } else {
      t.match(l.reason, /^(not reached because|did not complete)/, `${l.instance.split('.')[0]} ${l.check}: ${l.state} says why`);
    }
  }
  const of = (fqdn: string, check: string) => lines.filter((l) => l.instance === fqdn && l.check === check).at(-1);
  t.equal(of(missing, 'management')?.state, 'not-reached');
  t.equal(of(missing, 'management')?.reason, 'not reached because the instance name did not resolve, so no CNAME target was seen (DNS-001)');
  t.equal(of(missing, 'dataPath')?.state, 'not-reached');
  t.equal(of(sim.fqdn, 'nameResolution')?.state, 'degraded', 'one resolver is down while the other answers: a risk (clients fail over after a timeout)');
  t.equal(of(sim.fqdn, 'management')?.state, 'healthy', 'the management ports were fine: not "failing" with no findings');
  t.same(of(sim.fqdn, 'management')?.findings, []);
  t.equal(of(sim.fqdn, 'dataPath')?.state, 'healthy');
  t.same(warnings.map((w) => `${w.name}: ${w.message}`), [], 'no process warning');
  t.equal(agent.stderr(), '', 'nothing on stderr');
});

t.test('the real executable: a start and seconds of checks print nothing on stderr', { skip: existsSync(join(ROOT, 'dist/miprobe.cjs')) ? false : 'run npm run build first' }, async (t) => {
  const sim = await startSimNetwork({ scenario: findScenario('healthy') as Scenario, block: `${BLOCK.slice(0, -3)}.22` });
  t.teardown(() => sim.close());
  const layer = sim.configLayer() as { dns: Record<string, unknown> };
  const every = { cron: '* * * * * *' };
  const config = await writeConfig({ ...layer, timeoutMs: sim.suggestedTimeoutMs, dns: { ...layer.dns, requiredNames: [] }, instances: [{ fqdn: sim.fqdn }],
    agent: { listen: `${BLOCK}.2:0`, jitterSeconds: 0, schedules: { nameResolution: every, dataPath: every, management: every, revocation: every } } });
  const child = spawn(process.execPath, [join(ROOT, 'dist/cli/launch.cjs'), 'agent', '--config', config],
    { env: { ...process.env, ...sim.secretsEnv(), MIPROBE_ALLOW_CIDRS: '127.0.0.0/8' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await waitFor(() => (out.includes('"msg":"agent started"') ? true : undefined), 20_000, 'agent start');
  await new Promise((r) => setTimeout(r, 8000));
  child.kill('SIGTERM');
  t.equal(await exited, 0);
  t.ok((out.match(/"msg":"check state changed"/g) ?? []).length >= 4, 'every check ran');
  t.equal(err, '', 'stderr stays empty (no MaxListenersExceededWarning, no node-cron message)');
  t.notMatch(out, /"level":"(warn|error)"/, 'and no warning in the log of a healthy instance');
});
