// DNS client benchmark: miprobe's queryServer vs Node's dns.promises.Resolver
// (c-ares) against the same simulated server, same concurrency, same run.
//
//   npm run build && node bench/dns.mjs [--seconds 3] [--concurrency 32] [--rounds 3]
//
// The simulated server runs in a child process, so that its CPU time neither
// competes with the clients' event loop nor counts in their CPU figures. Both
// throughput (queries/s) and client CPU per query are reported: on a shared,
// loaded machine the CPU figure is the steadier of the two. Rounds alternate
// between the two clients; medians are reported. Loopback 127.53.200.1 only.
import { Resolver } from 'node:dns/promises';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HOST = '127.53.200.1';
const NAME = 'mi1.0a1b2c3d4e5f.database.windows.net';

if (process.argv[2] === '--server') {
  const { startDnsServer } = await import('../dist/sim/dns-server.js');
  const { buildMiZone } = await import('../dist/sim/mi-zone.js');
  const records = buildMiZone({ miName: 'mi1', zoneId: '0a1b2c3d4e5f', region: 'westeurope', ilbAddress: '10.0.0.10',
    managementAddress: '203.0.113.7' });
  const srv = await startDnsServer({ host: HOST, records });
  process.send({ port: srv.endpoint.port });
  process.on('message', async (m) => {
    if (m === 'close') {
      await srv.close();
      process.exit(0);
    }
  });
} else {
  const { values } = parseArgs({ options: {
    seconds: { type: 'string', default: '1' }, concurrency: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '9' } } });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const rounds = Number(values.rounds);
  const { queryServer } = await import('../dist/net/dns/client.js');
  const { AddressGuard } = await import('../dist/net/guard.js');
  const guard = AddressGuard.fromList('127.53.0.0/16');

  const child = fork(fileURLToPath(import.meta.url), ['--server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise((res) => child.once('message', (m) => res(m.port)));
  const server = { host: HOST, port };

  const miprobe = async () => {
    const r = await queryServer(NAME, 'A', server, { guard, timeoutMs: 2000, retries: 1 });
    if (!r.ok || r.answers.length !== 2) throw new Error(`miprobe: ${r.error?.code} ${r.error?.message}`);
  };
  const resolver = new Resolver({ timeout: 1000, tries: 2 });
  resolver.setServers([`${HOST}:${port}`]);
  const cares = async () => {
    const addrs = await resolver.resolve4(NAME);
    if (addrs.length !== 1) throw new Error('c-ares: unexpected answer');
  };

  /** Runs `fn` with `concurrency` workers for `seconds`; returns queries per second. */
  async function measure(fn) {
    const until = performance.now() + seconds * 1000;
    let done = 0;
    let errors = 0;
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    const loop = async () => {
      while (performance.now() < until) {
        try {
          await fn();
          done += 1;
        } catch {
          errors += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    const elapsed = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { qps: done / elapsed, errors, cpuUsPerQuery: (cpu.user + cpu.system) / Math.max(1, done),
      sysUsPerQuery: cpu.system / Math.max(1, done) };
  }

  // warm-up (JIT, sockets) for both sides
  await measure(miprobe);
  await measure(cares);
  const results = { miprobe: [], cares: [] };
  for (let i = 0; i < rounds; i += 1) {
    // alternate the order so neither side always runs on a warmer process
    const order = i % 2 === 0 ? ['miprobe', 'cares'] : ['cares', 'miprobe'];
    for (const which of order) {
      const r = await measure(which === 'miprobe' ? miprobe : cares);
      results[which].push(r);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const m = median(results.miprobe.map((r) => r.qps));
  const c = median(results.cares.map((r) => r.qps));
  const mc = median(results.miprobe.map((r) => r.cpuUsPerQuery));
  const cc = median(results.cares.map((r) => r.cpuUsPerQuery));
  const ms = median(results.miprobe.map((r) => r.sysUsPerQuery));
  const cs = median(results.cares.map((r) => r.sysUsPerQuery));
  const errs = (k) => results[k].reduce((s, r) => s + r.errors, 0);
  const list = (k) => results[k].map((r) => r.qps.toFixed(0)).join(' ');
  console.log(`DNS benchmark: ${rounds} alternating rounds x ${seconds}s, concurrency ${concurrency}, node ${process.version}, `
    + `server ${HOST}:${port} (child process), load average ${(await import('node:os')).loadavg()[0].toFixed(1)}`);
  console.log(`  miprobe queryServer : ${m.toFixed(0)} q/s, ${mc.toFixed(1)} us CPU/query of which ${ms.toFixed(1)} system (rounds: ${list('miprobe')}; errors ${errs('miprobe')})`);
  console.log(`  node Resolver c-ares: ${c.toFixed(0)} q/s, ${cc.toFixed(1)} us CPU/query of which ${cs.toFixed(1)} system (rounds: ${list('cares')}; errors ${errs('cares')})`);
  console.log(`  ratio miprobe/c-ares: throughput ${(m / c).toFixed(2)} (target >= 0.80); CPU efficiency (c-ares CPU / miprobe CPU) ${(cc / mc).toFixed(2)}`);
  child.send('close');
  await new Promise((res) => child.once('exit', res));
}
