// Interop: nmap's connect scan (-sT) and miprobe classify every port of the
// simulated management endpoint alike. nmap reports an ICMP-rejected port as
// "filtered" with reason host-unreach; miprobe calls that "unreachable".
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AddressGuard } from '../../src/net/guard.js';
import type { PortState } from '../../src/net/tcp.js';
import { scanPorts } from '../../src/net/port-scan.js';
import { startLoopbackPorts } from '../../src/sim/ports.js';
import { netnsSkip, startTestNetns } from '../helpers/netns.js';

const exec = promisify(execFile);

async function nmapAvailable(): Promise<false | string> {
  try {
    await exec('nmap', ['--version'], { timeout: 5000 });
    return false;
  } catch (err) {
    return `nmap is not installed (${(err as Error).message.split('\n')[0]})`;
  }
}

/** Runs a connect scan and maps each port to miprobe's vocabulary. */
async function nmapScan(address: string, ports: readonly number[]): Promise<Map<number, PortState | string>> {
  const { stdout } = await exec('nmap', ['-Pn', '-sT', '-n', '--max-retries', '1', '--host-timeout', '60s', '-p', ports.join(','), '-oX', '-', address],
    { timeout: 90_000, maxBuffer: 16 << 20 });
  const out = new Map<number, PortState | string>();
  for (const m of stdout.matchAll(/<port protocol="tcp" portid="(\d+)"><state state="([a-z|]+)" reason="([a-z-]+)"/g)) {
    const [, port, state, reason] = m;
    const mapped = state === 'filtered' && /unreach|prohibited/.test(reason ?? '') ? 'unreachable' : state ?? '';
    out.set(Number(port), mapped);
  }
  // nmap folds many ports of one state into <extraports>; list them too.
  for (const m of stdout.matchAll(/<extraports state="([a-z|]+)" count="\d+">([\s\S]*?)<\/extraports>/g)) {
    const state = m[1] ?? '';
    for (const r of (m[2] ?? '').matchAll(/<extrareasons reason="([a-z-]+)" count="\d+"(?: proto="tcp" ports="([\d,-]+)")?/g)) {
      const mapped = state === 'filtered' && /unreach|prohibited/.test(r[1] ?? '') ? 'unreachable' : state;
      for (const part of (r[2] ?? '').split(',').filter(Boolean)) {
        const [a, b] = part.split('-').map(Number) as [number, number | undefined];
        for (let p = a; p <= (b ?? a); p++) out.set(p, mapped);
      }
    }
  }
  return out;
}

const nmapSkip = await nmapAvailable();
const nsSkip = nmapSkip || (await netnsSkip());

t.test('loopback: open and closed', { skip: nmapSkip }, async (t) => {
  const host = '127.90.12.1';
  const sim = await startLoopbackPorts(host, [9000, 1440]);
  t.teardown(() => sim.close());
  const ports = [9000, 9003, 1438, 1440, 1452];
  const ours = await scanPorts(host, ports, { guard: AddressGuard.fromList('127.90.12.0/24'), timeoutMs: 2000 });
  if (!ours.ok) return t.fail('scan failed');
  const theirs = await nmapScan(host, ports);
  for (const p of ours.ports) t.equal(theirs.get(p.port), p.state, `port ${p.port}: nmap ${theirs.get(p.port)}, miprobe ${p.state}`);
  t.same(ours.ports.map((p) => p.state), ['open', 'closed', 'closed', 'open', 'closed']);
});

t.test('namespace: every state', { skip: nsSkip }, async (t) => {
  const ep = await startTestNetns(t, { index: 14, open: [1438, 20001], filtered: [[9000, 9000], [20010, 20019]],
    unreachable: [[9003, 9003], [20020, 20024]] });
  const ports = [9000, 9003, 1438, 1440, 1452, ...Array.from({ length: 30 }, (_, i) => 20000 + i)];
  const ours = await scanPorts(ep.address, ports, { guard: AddressGuard.fromList(ep.cidr), timeoutMs: 1500, concurrency: 64, ratePerSecond: 0 });
  if (!ours.ok) return t.fail('scan failed');
  t.equal(ours.ports.length, ports.length);
  const theirs = await nmapScan(ep.address, ports);
  for (const p of ours.ports) {
    t.equal(p.state, ep.expected(p.port), `port ${p.port}: miprobe ${p.state}, simulation ${ep.expected(p.port)}`);
    t.equal(theirs.get(p.port), p.state, `port ${p.port}: nmap ${theirs.get(p.port)}, miprobe ${p.state}`);
  }
  const seen = new Set(ours.ports.map((p) => p.state));
  t.same([...seen].sort(), ['closed', 'filtered', 'open', 'unreachable'], 'all four states present');
});
