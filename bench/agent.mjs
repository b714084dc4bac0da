#!/usr/bin/env node
// bench/agent: the agent watching 1,000 simulated instances, and Debian's
// prometheus-blackbox-exporter (module tcp_connect) probing the same TCP
// endpoints, in the same run. Prints CPU seconds per TCP probe for both and
// their ratio, the agent's resident memory with 1 instance and with 1,000, and
// /metrics render time.
//
//   npm run build && node bench/agent.mjs [--instances 1000] [--rounds 3] [--check management|dataPath] [--node-options "..."]
//
// Everything stays on 127.70.0.0/16; one DNS server serves all 1,000 names.
// --check management (default), the like-for-like comparison: each check
//   resolves the instance and its management endpoint and connects to the five
//   management ports (closed here, as they should be): five TCP probes, each
//   against one tcp_connect probe of port 9000.
// --check dataPath: the endpoints accept and close at once, so each check
//   resolves two names, connects to 1433, sends PRELOGIN, sees the close, and
//   retries as TDS 8 (a second connection and a TLS ClientHello). That is a
//   protocol check, not a TCP probe; its CPU is printed per check against one
//   tcp_connect probe of port 1433, for scale.
// CPU is read from /proc/<pid>/stat of each process (user + system), over a
// window of whole rounds.
// Memory is the agent process' VmRSS (/proc/<pid>/status), sampled every second
// over the same window of whole rounds; the peak is printed. The agent runs as
// the image runs it: with the node flags of the Dockerfile's NODE_OPTIONS and its
// MALLOC_* variables (--node-options replaces both: the MALLOC_* variables then
// come from this process' environment). Three figures, each from its own agent:
//   1 instance, the same check and schedule as the 1,000 (like for like);
//   1 instance with every check (name resolution, data path with TLS, management,
//     revocation) against the simulated network of `miprobe demo` (healthy);
//   1,000 instances.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import YAML from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { startDnsServer } = await import(join(ROOT, 'dist/sim/dns-server.js'));
const { buildMiZone } = await import(join(ROOT, 'dist/sim/mi-zone.js'));

const { values } = parseArgs({ options: { instances: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '3' }, period: { type: 'string', default: '10' }, check: { type: 'string', default: 'management' }, 'node-options': { type: 'string' } } });
// --check dataPath (default): each check resolves the name, connects to 1433 and sends PRELOGIN: one TCP probe per check.
// --check management: each check resolves two names and connects to the five management ports: five TCP probes per check.
const CHECK = values.check === 'dataPath' ? 'dataPath' : 'management';
const TCP_PER_CHECK = CHECK === 'management' ? 5 : 1;
const BB_PORT = CHECK === 'management' ? 9000 : 1433;
const N = Number(values.instances);
const ROUNDS = Number(values.rounds);
const PERIOD = Number(values.period); // seconds between data path rounds
const ZONE = '0a1b2c3d4e5f';
const CLK_TCK = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}
async function rssBytes(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}
async function freePort(host) {
  return new Promise((resolve) => { const s = createServer(); s.listen({ host, port: 0 }, () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
}
function waitForLine(child, re, ms = 20_000) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} in: ${buf.slice(-2000)}`)), ms);
    const on = (d) => { buf += d.toString(); const m = re.exec(buf); if (m) { clearTimeout(timer); resolve(m); } };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
  });
}

// 1,000 instances: addresses 127.70.100.1 ... spread over /24s; one TCP listener each on 1433.
const addr = (i) => `127.70.${100 + Math.floor(i / 250)}.${1 + (i % 250)}`;
const names = Array.from({ length: N }, (_, i) => `mi${String(i).padStart(4, '0')}.${ZONE}.database.windows.net`);
const listeners = [];
let accepted = 0;
for (let i = 0; i < N; i++) {
  const server = createServer((socket) => { accepted++; socket.on('error', () => {}); socket.destroy(); });
  await new Promise((r) => server.listen({ host: addr(i), port: 1433, backlog: 64 }, r));
  listeners.push(server);
}
const records = names.flatMap((name, i) => buildMiZone({ miName: name.split('.')[0], zoneId: ZONE, region: `r${i}`, ilbAddress: addr(i), ...(CHECK === 'management' ? { managementAddress: addr(i) } : {}) }));
const dns = await startDnsServer({ host: '127.70.99.53', port: 0, records });

const dir = await mkdtemp(join(tmpdir(), 'miprobe-bench-'));
const agentHost = '127.70.99.1';
const agentPort = await freePort(agentHost);
const agentConfig = (instances, port) => YAML.stringify({
  allowCidrs: ['127.0.0.0/8'], timeoutMs: 2000,
  dns: { servers: [`127.70.99.53:${dns.endpoint.port}`], requiredNames: [], retries: 0 },
  probe: { subnet: '127.70.96.0/19', revocation: false, managementPorts: CHECK === 'management' },
  instances: instances.map((fqdn) => ({ fqdn })),
  agent: { listen: `${agentHost}:${port}`, concurrency: 64, jitterSeconds: PERIOD * 0.8, logLevel: 'warn',
    schedules: { nameResolution: { enabled: false }, revocation: { enabled: false },
      dataPath: CHECK === 'dataPath' ? { cron: `*/${PERIOD} * * * * *`, deadlineMs: 5000 } : { enabled: false },
      management: CHECK === 'management' ? { cron: `*/${PERIOD} * * * * *`, deadlineMs: 5000 } : { enabled: false } } },
});
await writeFile(join(dir, 'agent.yaml'), agentConfig(names, agentPort));

// The agent runs as the container runs it: with the node flags of the Dockerfile's NODE_OPTIONS
// and its MALLOC_* variables (glibc's allocator settings).
const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
const shippedFlags = /^ENV NODE_OPTIONS="?([^"\n]*)"?$/m.exec(dockerfile)?.[1] ?? '';
const mallocEnv = Object.fromEntries([...dockerfile.matchAll(/^ENV (.*MALLOC_.*)$/gm)].flatMap((m) => [...m[1].matchAll(/\b(MALLOC_[A-Z_]+)=(\d+)/g)].map((v) => [v[1], v[2]])));
const nodeFlags = (values['node-options'] ?? shippedFlags).split(' ').filter(Boolean);
const startAgent = async (configPath, env = {}) => {
  const child = spawn(process.execPath, [...nodeFlags, join(ROOT, 'dist/cli/launch.cjs'), 'agent', '--config', configPath, '--log-level', 'info'],
    { env: { ...process.env, ...(values['node-options'] === undefined ? mallocEnv : {}), MIPROBE_ALLOW_CIDRS: '127.0.0.0/8', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForLine(child, /"msg":"agent started"/);
  return child;
};
const stopAgent = async (child) => { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); };
/** Peak VmRSS, sampled every second for `ms`. */
async function peakRss(pid, ms) {
  let peak = 0;
  for (const until = Date.now() + ms; Date.now() < until;) {
    peak = Math.max(peak, await rssBytes(pid));
    await sleep(1000);
  }
  return peak;
}

// One instance, the same check and schedule: a warm-up period, then the measuring window.
const oneConfig = join(dir, 'one.yaml');
await writeFile(oneConfig, agentConfig(names.slice(0, 1), await freePort(agentHost)));
const one = await startAgent(oneConfig);
await sleep(PERIOD * 1000 + 2000);
const rssOne = await peakRss(one.pid, ROUNDS * PERIOD * 1000);
await stopAgent(one);

// One instance with every check, against the simulated network `miprobe demo` uses.
const { startSimNetwork } = await import(join(ROOT, 'dist/sim/network.js'));
const { findScenario } = await import(join(ROOT, 'dist/sim/scenarios.js'));
const sim = await startSimNetwork({ scenario: findScenario('healthy'), block: '127.70.98' });
const simLayer = sim.configLayer();
const fullConfig = join(dir, 'full.yaml');
const every = { cron: `*/${PERIOD} * * * * *` };
await writeFile(fullConfig, YAML.stringify({ ...simLayer, timeoutMs: sim.suggestedTimeoutMs, probe: { ...simLayer.probe, login: 'none' },
  instances: [{ fqdn: sim.fqdn }],
  agent: { listen: `${agentHost}:${await freePort(agentHost)}`, jitterSeconds: 0, logLevel: 'warn',
    schedules: { nameResolution: every, dataPath: every, management: every, revocation: every } } }));
const full = await startAgent(fullConfig, sim.secretsEnv());
await sleep(PERIOD * 1000 + 2000);
const rssFull = await peakRss(full.pid, ROUNDS * PERIOD * 1000);
await stopAgent(full);
await sim.close();

const agent = await startAgent(join(dir, 'agent.yaml'));
const agentUrl = `http://${agentHost}:${agentPort}`;

const bbHost = '127.70.99.2';
const bbPort = await freePort(bbHost);
await writeFile(join(dir, 'blackbox.yml'), YAML.stringify({ modules: { tcp_connect: { prober: 'tcp', timeout: '5s', tcp: { preferred_ip_protocol: 'ip4' } } } }));
const blackbox = spawn('/usr/bin/prometheus-blackbox-exporter', [`--config.file=${join(dir, 'blackbox.yml')}`, `--web.listen-address=${bbHost}:${bbPort}`, '--log.level=warn'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
for (let i = 0; i < 100; i++) { try { if ((await fetch(`http://${bbHost}:${bbPort}/-/healthy`)).ok) break; } catch { /* starting */ } await sleep(100); }

const checksDone = async () => {
  const text = await (await fetch(`${agentUrl}/metrics`)).text();
  return Number(new RegExp(`^miprobe_checks_total\\{check="${CHECK}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
};

// Blackbox round: what Prometheus would do every PERIOD seconds, spread over the period, 64 at a time.
let bbProbes = 0;
let bbFailed = 0;
async function blackboxRound() {
  const started = Date.now();
  let next = 0;
  const spacing = (PERIOD * 800) / N; // spread like the agent's jitter
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < N) {
      const i = next++;
      const due = started + i * spacing - Date.now();
      if (due > 0) await sleep(due);
      const r = await fetch(`http://${bbHost}:${bbPort}/probe?module=tcp_connect&target=${addr(i)}:${BB_PORT}`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '10' } });
      const body = await r.text();
      bbProbes++;
      if (!/^probe_success 1$/m.test(body)) bbFailed++;
    }
  }));
}

// Warm-up: the agent's first round (started at once) and one blackbox round.
await sleep(PERIOD * 1000 + 2000);
await blackboxRound();
await sleep(1000);

// Measure the agent over ROUNDS whole periods (no /metrics scrapes inside the window but the counter reads at its ends).
const a0 = await cpuSeconds(agent.pid);
const c0 = await checksDone();
const rss = await peakRss(agent.pid, ROUNDS * PERIOD * 1000);
const c1 = await checksDone();
const a1 = await cpuSeconds(agent.pid);
const agentProbes = (c1 - c0) * TCP_PER_CHECK;
const agentCpuPerProbe = (a1 - a0) / agentProbes;

// Measure blackbox over the same number of rounds (it runs while the agent keeps its schedule).
const b0 = await cpuSeconds(blackbox.pid);
const p0 = bbProbes;
const f0 = bbFailed;
for (let r = 0; r < ROUNDS; r++) await blackboxRound();
const b1 = await cpuSeconds(blackbox.pid);
const bbCount = bbProbes - p0;
const bbCpuPerProbe = (b1 - b0) / bbCount;

// /metrics at N instances: wall time of the request on loopback, median of 15, taken with curl
// (a lean client, as Prometheus' Go scraper is) while the agent keeps its schedule; Node's fetch
// in this process, which also serves DNS for 1,000 names, adds its own parsing time to the figure.
const { execFile } = await import('node:child_process');
const curlTime = (url) => new Promise((resolve) => execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{time_total}', url], (err, out) => resolve(err ? undefined : Number(out) * 1000)));
const hasCurl = (await curlTime(`${agentUrl}/healthz`)) !== undefined;
const times = [];
const fetchTimes = [];
let bytes = 0;
for (let i = 0; i < 15; i++) {
  if (hasCurl) times.push(await curlTime(`${agentUrl}/metrics`));
  const t0 = performance.now();
  const text = await (await fetch(`${agentUrl}/metrics`)).text();
  fetchTimes.push(performance.now() - t0);
  bytes = text.length;
}
if (!hasCurl) times.push(...fetchTimes);
times.sort((x, y) => x - y);
fetchTimes.sort((x, y) => x - y);
const series = (await (await fetch(`${agentUrl}/metrics`)).text()).split('\n').filter((l) => l && !l.startsWith('#')).length;

const ms = (s) => (s * 1000).toFixed(3);
console.log(`instances                      ${N}`);
console.log(`agent ${CHECK} checks         ${c1 - c0} ${CHECK === 'management' ? `(${agentProbes} TCP probes)` : ''} in ${ROUNDS} rounds of ${PERIOD} s (CPU ${(a1 - a0).toFixed(2)} s)`);
console.log(`blackbox tcp_connect probes   ${bbCount} to port ${BB_PORT} (${bbFailed - f0} failed${BB_PORT !== 1433 ? ': the port is closed, as the management ports should be' : ''}; CPU ${(b1 - b0).toFixed(2)} s)`);
if (CHECK === 'management') {
  console.log(`CPU per TCP probe: agent      ${ms(agentCpuPerProbe)} ms`);
  console.log(`CPU per TCP probe: blackbox   ${ms(bbCpuPerProbe)} ms`);
  console.log(`ratio agent / blackbox        ${(agentCpuPerProbe / bbCpuPerProbe).toFixed(2)}x   (target <= 0.5x)`);
} else {
  console.log(`CPU per data path check       ${ms(agentCpuPerProbe)} ms (two names, two connections, PRELOGIN, a TLS ClientHello)`);
  console.log(`CPU per tcp_connect probe     ${ms(bbCpuPerProbe)} ms (blackbox)`);
  console.log(`data path check / tcp_connect ${(agentCpuPerProbe / bbCpuPerProbe).toFixed(2)}x   (for scale: not a TCP probe; the 0.5x target is --check management)`);
}
const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
console.log(`node flags                    ${nodeFlags.join(' ') || '(none)'}${values['node-options'] === undefined ? ` and ${Object.entries(mallocEnv).map(([k, v]) => `${k}=${v}`).join(' ') || 'no MALLOC_* variable'} (the Dockerfile's)` : ''}`);
console.log(`agent RSS, 1 instance         ${mib(rssOne)} peak, ${CHECK} checks as below   (target < 80 MiB)`);
console.log(`agent RSS, 1 instance, all    ${mib(rssFull)} peak, every check on the simulated network   (target < 80 MiB)`);
console.log(`agent RSS, ${N} instances     ${mib(rss)} peak   (target < 150 MiB)`);
console.log(`/metrics at ${N} instances     median ${times[7].toFixed(1)} ms, max ${times[14].toFixed(1)} ms (${hasCurl ? 'curl' : 'fetch; curl not installed'}), ${series} series, ${(bytes / 1024).toFixed(0)} KiB   (target < 100 ms)`);
if (hasCurl) console.log(`/metrics with this process' fetch median ${fetchTimes[7].toFixed(1)} ms, max ${fetchTimes[14].toFixed(1)} ms`);
console.log(`endpoint accepts              ${accepted}`);

agent.kill('SIGTERM');
blackbox.kill('SIGTERM');
await Promise.all([new Promise((r) => agent.once('exit', r)), new Promise((r) => blackbox.once('exit', r))]);
await dns.close();
await Promise.all(listeners.map((s) => new Promise((r) => s.close(r))));
await rm(dir, { recursive: true, force: true });
