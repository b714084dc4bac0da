// Management ports in every state against the simulated endpoint: open and
// closed on loopback (127.90.11.0/24), filtered and unreachable through a
// network namespace (10.213.11.0/30) when running as root.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { AddressGuard } from '../../src/net/guard.js';
import { managementNotApplicable, probeManagementPorts } from '../../src/probes/management-ports.js';
import { testContext } from '../helpers/context.js';
import { managementHostFromChain } from '../../src/diagnosis/target.js';

const managementHostFor = (cname: string): string | undefined => managementHostFromChain([cname])?.host;
import { parsePortSpec, scanPorts } from '../../src/net/port-scan.js';
import { managementChecks, managementFindings } from '../../src/diagnosis/management-rules.js';
import { startLoopbackPorts } from '../../src/sim/ports.js';
import { netnsSkip, startTestNetns } from '../helpers/netns.js';

const LOOP = '127.90.11.1';
const loopGuard = AddressGuard.fromList('127.90.11.0/24');
const nsSkip = await netnsSkip();

t.test('management host: remove the vnet label', async (t) => {
  t.equal(managementHostFor('trx.westeurope1-a.worker.vnet.database.windows.net'), 'trx.westeurope1-a.worker.database.windows.net');
  t.equal(managementHostFor('trx.westeurope1-a.worker.vnet.database.windows.net.'), 'trx.westeurope1-a.worker.database.windows.net');
  t.equal(managementHostFor('tr123.westeurope1-a.worker.database.windows.net'), undefined);
});

t.test('port specs', async (t) => {
  t.same(parsePortSpec('9003,9000, 1438-1440'), [1438, 1439, 1440, 9000, 9003]);
  t.throws(() => parsePortSpec('0-10'), RangeError);
  t.throws(() => parsePortSpec('80,abc'), /"abc" is not a port/);
  t.equal(parsePortSpec('1-65535').length, 65535);
});

t.test('loopback: open ports are findings, closed ports pass', async (t) => {
  const sim = await startLoopbackPorts(LOOP, [9000, 1440]);
  t.teardown(() => sim.close());
  const r = await probeManagementPorts({ address: LOOP, host: 'trx.sim-a.worker.database.windows.net' }, testContext(loopGuard, 2000));
  t.ok(r.ok && r.applicable);
  if (!r.ok || !r.applicable) return;
  t.same(r.ports.map((p) => [p.port, p.state]), [[9000, 'open'], [9003, 'closed'], [1438, 'closed'], [1440, 'open'], [1452, 'closed']]);
  t.same(r.ports.filter((p) => p.state === 'closed').map((p) => p.code), ['TCP_REFUSED', 'TCP_REFUSED', 'TCP_REFUSED']);
  const findings = managementFindings(r);
  t.same(findings.map((f) => f.id), ['MGMT-001']);
  t.match(findings[0]!.evidence, /management ports 9000, 1440 on trx\.sim-a\.worker\.database\.windows\.net \(127\.90\.11\.1\)/);
  const checks = managementChecks(r);
  t.same(checks.map((c) => [c.name, c.status]), [['Management port 9000', 'warn'], ['Management port 9003', 'pass'],
    ['Management port 1438', 'pass'], ['Management port 1440', 'warn'], ['Management port 1452', 'pass']]);
  t.ok(checks.every((c) => typeof c.seconds === 'number' && c.seconds! < 2));
});

t.test('all closed: no finding', async (t) => {
  const r = await probeManagementPorts({ address: '127.90.11.2' }, testContext(loopGuard, 2000));
  t.same(managementFindings(r), []);
  t.ok(managementChecks(r).every((c) => c.status === 'pass'));
});

t.test('not applicable, guard denial', async (t) => {
  const na = managementNotApplicable('no .vnet label in the CNAME chain (enrolled in the November 2022 feature wave)');
  t.same(managementFindings(na), []);
  t.same(managementChecks(na), [{ name: 'Management endpoint', status: 'skip',
    detail: 'not applicable: no .vnet label in the CNAME chain (enrolled in the November 2022 feature wave)' }]);
  const denied = await probeManagementPorts({ address: '127.90.99.1' }, testContext(loopGuard, 500));
  t.match(denied, { ok: false, code: 'GUARD_DENIED' });
  t.same(managementFindings(denied).map((f) => f.id), ['MGMT-004']);
  t.equal(managementChecks(denied)[0]!.status, 'skip');
});

t.test('--scan-ports: extra open ports, rate limit and deadline', async (t) => {
  const sim = await startLoopbackPorts('127.90.11.3', [9000, 20001, 20007]);
  t.teardown(() => sim.close());
  const r = await probeManagementPorts({ address: '127.90.11.3', scanPorts: parsePortSpec('9000,20000-20009'),
    scan: { concurrency: 4, ratePerSecond: 200 } }, testContext(loopGuard, 2000));
  if (!r.ok || !r.applicable) return t.fail('probe failed');
  t.ok(r.scan?.ok);
  if (!r.scan?.ok) return;
  t.equal(r.scan.ports.length, 10, '9000 is left to the management probe');
  t.same(r.scan.ports.filter((p) => p.state === 'open').map((p) => p.port), [20001, 20007]);
  t.ok(r.scan.seconds >= 0.04, `10 starts at 200/s take >= 45 ms (${r.scan.seconds} s)`);
  t.same(managementFindings(r).map((f) => f.id).sort(), ['MGMT-001', 'MGMT-002']);
  t.match(managementChecks(r).at(-1), { name: 'Port scan', status: 'warn', detail: /10 ports: 2 open \(20001, 20007\), 8 closed/ });
  // A budget too small for the rate: the rest is reported as not probed.
  const slow = await scanPorts('127.90.11.3', parsePortSpec('21000-21099'), { guard: loopGuard, timeoutMs: 1000, ratePerSecond: 100,
    deadlineMs: 200 });
  if (!slow.ok) return t.fail('scan failed');
  t.ok(slow.ports.length > 5 && slow.ports.length < 40, `${slow.ports.length} probed in 200 ms at 100/s`);
  t.equal(slow.ports.length + slow.skipped.length, 100);
});

t.test('namespace: filtered and unreachable built by the network', { skip: nsSkip }, async (t) => {
  const ep = await startTestNetns(t, { index: 11, open: [1438], filtered: [[9000, 9000], [1452, 1452]], unreachable: [[9003, 9003]] });
  const guard = AddressGuard.fromList(ep.cidr);
  const started = performance.now();
  const r = await probeManagementPorts({ address: ep.address }, testContext(guard, 1500));
  const wall = (performance.now() - started) / 1000;
  if (!r.ok || !r.applicable) return t.fail(`probe failed: ${JSON.stringify(r)}`);
  t.same(r.ports.map((p) => [p.port, p.state]), [[9000, 'filtered'], [9003, 'unreachable'], [1438, 'open'], [1440, 'closed'], [1452, 'filtered']]);
  t.same(r.ports.map((p) => p.code ?? null), ['TCP_TIMEOUT', 'TCP_UNREACHABLE', null, 'TCP_REFUSED', 'TCP_TIMEOUT']);
  t.ok(wall < 2.5, `ports probed concurrently: ${wall.toFixed(2)} s for two 1.5 s timeouts`);
  for (const p of r.ports) t.equal(p.state, ep.expected(p.port), `port ${p.port} as the simulation intends`);
  t.same(managementFindings(r).map((f) => f.id), ['MGMT-001']);
  const checks = managementChecks(r);
  t.same(checks.map((c) => c.status), ['pass', 'info', 'warn', 'pass', 'pass']);
  // Every port unreachable: information, not a failure.
  const ep2 = await startTestNetns(t, { index: 12, unreachable: [[1, 65535]] });
  const all = await probeManagementPorts({ address: ep2.address }, testContext(AddressGuard.fromList(ep2.cidr), 1500));
  t.same(managementFindings(all).map((f) => f.id), ['MGMT-003']);
  t.ok(managementChecks(all).every((c) => c.status === 'info'));
});

t.test('namespace teardown leaves nothing behind', { skip: nsSkip }, async (t) => {
  const { startNetnsEndpoint } = await import('../../src/sim/ports.js');
  const ep = await startNetnsEndpoint({ index: 13, open: [9000] });
  t.match(execFileSync('ip', ['netns', 'list']).toString(), ep.namespace);
  await ep.close();
  t.notMatch(execFileSync('ip', ['netns', 'list']).toString(), ep.namespace);
  t.notMatch(execFileSync('ip', ['-o', 'addr', 'show']).toString(), ep.hostAddress);
});
