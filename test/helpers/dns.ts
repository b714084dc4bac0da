// Helpers for the DNS tests: tool detection, dig runs and parsing, dnsmasq and
// unbound processes on loopback (127.53.0.0/16 only).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressGuard } from '../../src/net/guard.js';
import type { Endpoint } from '../../src/net/endpoint.js';
import type { DnsHop } from '../../src/net/dns/types.js';

/** The only range DNS tests may send to. */
export const dnsTestGuard = (): AddressGuard => AddressGuard.fromList('127.53.0.0/16');

const SEARCH_PATH = [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];

/** Absolute path of an executable, or undefined. */
export async function findTool(name: string): Promise<string | undefined> {
  for (const dir of SEARCH_PATH) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

export function run(cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number'
        ? Number((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses `dig +noall +answer` lines into hops (names lower-case, no trailing dot). */
export function parseDigAnswer(text: string): DnsHop[] {
  const hops: DnsHop[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith(';')) continue;
    const [name = '', ttl = '0', cls = '', type = '', ...rest] = t.split(/\s+/);
    if (cls !== 'IN' || (type !== 'A' && type !== 'AAAA' && type !== 'CNAME')) continue;
    const strip = (s: string): string => s.toLowerCase().replace(/\.$/, '');
    const data = rest.join(' ');
    hops.push({ name: strip(name), type, data: type === 'CNAME' ? strip(data) : data, ttl: Number(ttl) });
  }
  return hops;
}

export interface DigResult {
  readonly status: string;
  readonly answers: DnsHop[];
  readonly raw: string;
}

/** `dig @host -p port name type` without recursion flags unless given; reads status and answers. */
export async function dig(dig: string, server: Endpoint, name: string, type: string, extra: readonly string[] = []): Promise<DigResult> {
  const { stdout } = await run(dig, [`@${server.host}`, '-p', String(server.port), name, type, '+tries=1', '+time=2',
    '+nocomments', '+noall', '+answer', '+comments', ...extra]);
  const status = /status: ([A-Z]+)/.exec(stdout)?.[1] ?? 'NONE';
  return { status, answers: parseDigAnswer(stdout), raw: stdout };
}

/** A port free on both UDP and TCP at `host` right now. */
export async function freePort(host: string): Promise<number> {
  for (let i = 0; i < 20; i += 1) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, host, () => {
        const addr = s.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, host, () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error(`no free port on ${host}`);
}

export interface DnsProcess {
  readonly endpoint: Endpoint;
  readonly proc: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

async function waitUntilAnswers(digPath: string, endpoint: Endpoint, name: string, proc: ChildProcess, what: string,
  log: () => string): Promise<void> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}: ${log()}`);
    const r = await dig(digPath, endpoint, name, 'A');
    if (r.status !== 'NONE') return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`${what} did not answer within 10 s: ${log()}`);
}

function stopper(proc: ChildProcess, cleanup?: () => Promise<void>): () => Promise<void> {
  return async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((res) => proc.once('exit', () => res()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    await cleanup?.();
  };
}

/** dnsmasq in the foreground on host:port, with only the given data (no resolv.conf, no hosts file). */
export async function startDnsmasq(dnsmasq: string, digPath: string, host: string, args: readonly string[],
  probeName: string): Promise<DnsProcess> {
  const port = await freePort(host);
  const endpoint = { host, port };
  let log = '';
  const proc = spawn(dnsmasq, ['--keep-in-foreground', '--no-daemon', `--port=${port}`, `--listen-address=${host}`,
    '--bind-interfaces', '--no-resolv', '--no-hosts', '--no-poll', '--pid-file=', '--user=root', '--group=root',
    '--log-facility=-', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-8000); });
  proc.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-8000); });
  const stop = stopper(proc);
  try {
    await waitUntilAnswers(digPath, endpoint, probeName, proc, 'dnsmasq', () => log);
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint, proc, stderr: () => log, stop };
}

/** unbound in the foreground serving `localData` (unbound local-data lines) on host:port. */
export async function startUnbound(unbound: string, digPath: string, host: string, localZones: readonly string[],
  localData: readonly string[], probeName: string): Promise<DnsProcess> {
  const port = await freePort(host);
  const endpoint = { host, port };
  const dir = await mkdtemp(join(tmpdir(), 'miprobe-unbound-'));
  const conf = [
    'server:',
    `  interface: ${host}@${port}`,
    '  port: ' + String(port),
    '  do-ip6: no',
    '  do-daemonize: no',
    '  use-syslog: no',
    `  logfile: ""`,
    '  username: ""',
    `  chroot: ""`,
    `  directory: "${dir}"`,
    `  pidfile: "${join(dir, 'unbound.pid')}"`,
    '  access-control: 127.0.0.0/8 allow',
    '  num-threads: 1',
    '  verbosity: 1',
    '  module-config: "iterator"',
    '  do-not-query-localhost: yes',
    '  root-hints: ""',
    ...localZones.map((z) => `  local-zone: "${z}." static`),
    ...localData.map((d) => `  local-data: "${d}"`),
    'remote-control:',
    '  control-enable: no',
  ].join('\n') + '\n';
  const confPath = join(dir, 'unbound.conf');
  await writeFile(confPath, conf);
  let log = '';
  const proc = spawn(unbound, ['-d', '-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-8000); });
  proc.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-8000); });
  const stop = stopper(proc, () => rm(dir, { recursive: true, force: true }));
  try {
    await waitUntilAnswers(digPath, endpoint, probeName, proc, 'unbound', () => log);
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint, proc, stderr: () => log, stop };
}
