// When miprobe itself cannot run for a good part of a deadline (its own CPU work, or a
// host whose cores are all taken), the timeouts it sees meanwhile are the host's: the
// report leads with HOST-001 and marks them as its consequences instead of blaming the
// network. Against a simulated network in its own process (demo --serve).
import { createSocket } from 'node:dgram';
import t from 'tap';
import { runDiagnosis } from '../../src/cli/diagnose.js';
import { loadConfig, mergeLayers } from '../../src/config/load.js';
import { applyHostStall, stallMargin } from '../../src/diagnosis/host-rules.js';
import { finding } from '../../src/diagnosis/finding.js';
import { DNS } from '../../src/diagnosis/catalog/dns.js';
import { MGMT } from '../../src/diagnosis/catalog/management.js';
import { simConfigLayer, simSecretsEnv } from '../../src/sim/network-info.js';
import { serveScenario } from '../helpers/served.js';

t.test('applyHostStall: below the margin nothing changes; above it timeouts become HOST-001\'s consequences', async (t) => {
  const timeout = finding(DNS.unreachable, 'DNS 10.0.0.2:53: DNS_TIMEOUT');
  const other = finding(Object.values(MGMT)[0] ?? DNS.nxdomain, 'port 9000 open');
  t.equal(stallMargin(1000), 250);
  t.equal(stallMargin(5000), 1250);
  t.same(applyHostStall([timeout, other], { maxStallMs: 200, totalStallMs: 20 }, 1000), [timeout, other]);
  const out = applyHostStall([timeout, other], { maxStallMs: 900, totalStallMs: 900 }, 1000);
  t.equal(out[0]?.id, 'HOST-001');
  t.match(out[0]?.evidence, /up to 900 ms at a time \(900 ms in all\) against deadlines of 1000 ms/);
  t.match(out[1], { id: 'DNS-002', severity: 'warning', causedBy: 'HOST-001' });
  t.same(out[2], other, 'findings that are not timeouts are left alone');
});

/** A UDP DNS forwarder on 127.118.0.1 whose first query blocks this process for `stallMs`. */
async function stallingResolver(upstream: string, stallMs: number): Promise<{ endpoint: string; close(): void }> {
  const at = upstream.lastIndexOf(':');
  const socket = createSocket('udp4');
  const clients = new Map<number, { address: string; port: number }>();
  let stalled = false;
  socket.on('message', (msg, from) => {
    if (from.address === upstream.slice(0, at) && from.port === Number(upstream.slice(at + 1))) {
      const client = clients.get(msg.readUInt16BE(0));
      if (client) socket.send(msg, client.port, client.address);
      return;
    }
    if (!stalled) {
      stalled = true;
      const until = Date.now() + stallMs;
      while (Date.now() < until) { /* the host "stalls" miprobe */ }
    }
    clients.set(msg.readUInt16BE(0), { address: from.address, port: from.port });
    socket.send(msg, Number(upstream.slice(at + 1)), upstream.slice(0, at));
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.118.0.1', () => resolve()));
  return { endpoint: `127.118.0.1:${socket.address().port}`, close: () => socket.close() };
}

async function diagnoseServed(info: Parameters<typeof simConfigLayer>[0], timeoutMs: number, signal?: AbortSignal) {
  const config = await loadConfig({ env: {}, flags: mergeLayers({ timeoutMs }, simConfigLayer(info), { probe: { login: 'none', revocation: false } }) });
  return runDiagnosis(info.fqdn, config, simSecretsEnv(info), signal);
}

t.test('a process stalled past the deadline: HOST-001 leads, no timeout is a network critical', { timeout: 120_000 }, async (t) => {
  const { info } = await serveScenario(t, 'healthy');
  const control = await diagnoseServed(info, 5000);
  t.equal(control.verdict, 'healthy', 'unstalled, the same network is healthy');
  t.notOk(control.findings.some((f) => f.id === 'HOST-001'), 'and no HOST-001');

  // A resolver in front of the simulated one, in this process: the first query it gets stalls this process for 1.6 s
  // (deadline 1 s), as a host whose CPUs are all taken would, then it is forwarded.
  const stalling = await stallingResolver(info.resolvers[0] ?? '', 1600);
  t.teardown(() => stalling.close());
  const report = await diagnoseServed({ ...info, resolvers: [stalling.endpoint] }, 1000);
  t.ok((report.host?.maxStallSeconds ?? 0) >= 1.5, `the stall was measured (${report.host?.maxStallSeconds} s)`);
  t.equal(report.findings[0]?.id, 'HOST-001', `the report leads with the host, not the network: ${report.findings.map((f) => `${f.id} ${f.severity}`).join(', ')}`);
  const timeouts = report.findings.filter((f) => ['DNS-002', 'TCP-002', 'TDS-001', 'TLS-006', 'LOGIN-006'].includes(f.id));
  t.ok(timeouts.every((f) => f.severity === 'warning' && f.causedBy === 'HOST-001'), `timeouts marked as consequences: ${timeouts.map((f) => f.id).join(', ') || 'none'}`);
});
