// Benchmark: scan 1,000 ports on the simulated management endpoint (mixed
// states) and print ports per second and the wall time against the deadline.
//   npm run build && node bench/ports.mjs [--concurrency N] [--rate N] [--timeout MS] [--deadline MS]
// On loopback (127.90.20.1): 20 ports listening, the rest closed. As root with
// ip and iptables, a second run goes into a network namespace (10.213.20.0/30)
// where 50 ports are dropped (filtered) and 30 rejected (unreachable).
import { parseArgs } from 'node:util';

let mod;
try {
  mod = {
    ...(await import('../dist/net/port-scan.js')),
    ...(await import('../dist/sim/ports.js')),
    ...(await import('../dist/net/guard.js')),
  };
} catch (err) {
  console.error(`bench/ports: cannot load ../dist (${err.message}); run \`npm run build\` first`);
  process.exit(2);
}
const { scanPorts, startLoopbackPorts, netnsSupport, startNetnsEndpoint, AddressGuard } = mod;

const { values } = parseArgs({ options: {
  concurrency: { type: 'string', default: '256' }, rate: { type: 'string', default: '0' },
  timeout: { type: 'string', default: '1000' }, deadline: { type: 'string', default: '10000' },
} });
const opts = { concurrency: Number(values.concurrency), ratePerSecond: Number(values.rate), timeoutMs: Number(values.timeout),
  deadlineMs: Number(values.deadline) };

const BASE = 30000;
const PORTS = Array.from({ length: 1000 }, (_, i) => BASE + i);
const OPEN = PORTS.filter((_, i) => i % 50 === 7); // 20 ports

async function bench(label, address, guard, expected) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await scanPorts(address, PORTS, { guard, ...opts });
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (!r.ok) throw new Error(`${label}: ${r.code} ${r.message}`);
  const wrong = r.ports.filter((p) => p.state !== expected(p.port));
  const c = r.counts;
  console.log(`${label}: ${r.ports.length} ports in ${wall.toFixed(3)} s = ${Math.round(r.ports.length / wall)} ports/s; `
    + `deadline ${opts.deadlineMs} ms (${(wall * 100000 / opts.deadlineMs).toFixed(1)}% used), ${r.skipped.length} not probed`);
  console.log(`  states: ${c.open} open, ${c.closed} closed, ${c.filtered} filtered, ${c.unreachable} unreachable, ${c.error} error; `
    + `${wrong.length} misclassified; CPU ${((cpu.user + cpu.system) / 1000 / r.ports.length).toFixed(3)} ms per port`);
  return wrong.length === 0 && r.skipped.length === 0;
}

console.log(`scan options: concurrency ${opts.concurrency}, rate ${opts.ratePerSecond || 'unlimited'}/s, `
  + `per-port timeout ${opts.timeoutMs} ms, deadline ${opts.deadlineMs} ms`);
let ok = true;
const loop = await startLoopbackPorts('127.90.20.1', OPEN);
try {
  ok = (await bench('loopback 127.90.20.1 (20 open, 980 closed)', '127.90.20.1', AddressGuard.fromList('127.90.20.0/24'),
    (p) => (OPEN.includes(p) ? 'open' : 'closed'))) && ok;
} finally {
  await loop.close();
}
const support = await netnsSupport();
if (!support.ok) console.log(`namespace run skipped: ${support.reason}`);
else {
  const ep = await startNetnsEndpoint({ index: 20, open: OPEN, filtered: [[BASE + 100, BASE + 149]], unreachable: [[BASE + 200, BASE + 229]] });
  try {
    const n = (state) => PORTS.filter((p) => ep.expected(p) === state).length;
    ok = (await bench(`namespace ${ep.address} (${n('open')} open, ${n('filtered')} filtered, ${n('unreachable')} unreachable, ${n('closed')} closed)`, ep.address,
      AddressGuard.fromList(ep.cidr), (p) => ep.expected(p))) && ok;
  } finally {
    await ep.close();
  }
}
process.exit(ok ? 0 : 1);
