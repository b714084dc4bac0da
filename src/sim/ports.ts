// A simulated management endpoint with ports in every state the TCP classifier knows:
//   open         a listener accepts (and hangs up)
//   closed       nothing listens: the kernel answers the SYN with a reset
//   filtered     a packet filter drops the SYN: no answer at all
//   unreachable  a packet filter answers with ICMP host-unreachable
// Open and closed need nothing but loopback (startLoopbackPorts). Filtered and
// unreachable are built honestly, by the network: a network namespace joined
// to this one by a veth pair on a private /30, with iptables rules inside it
// (startNetnsEndpoint; root, `ip` and `iptables` required; netnsSupport() says
// why not otherwise). Everything created is removed by close().
//
//   startLoopbackPorts(host, open): Promise<LoopbackPorts>
//   netnsSupport(): Promise<{ ok: true } | { ok: false; reason: string }>
//   startNetnsEndpoint(opts): Promise<NetnsEndpoint>
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import type { PortState } from '../net/tcp.js';

const exec = promisify(execFile);

export interface LoopbackPorts {
  readonly host: string;
  readonly open: readonly number[];
  close(): Promise<void>;
}

/** Listens on `host` (a loopback address such as 127.90.1.1) at each port of `open`. */
export async function startLoopbackPorts(host: string, open: readonly number[]): Promise<LoopbackPorts> {
  const servers: Server[] = [];
  try {
    for (const port of open) {
      const server = createServer((socket) => socket.destroy());
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port, backlog: 511 }, () => resolve());
      });
      servers.push(server);
    }
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    throw err;
  }
  return {
    host, open: [...open],
    close: async () => {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
}

export type PortRange = readonly [number, number];

export interface NetnsEndpointOptions {
  /** 0-255: the endpoint lives at 10.213.<index>.2/30, this host's side at .1 (one index per test file). */
  readonly index: number;
  readonly open?: readonly number[];
  readonly filtered?: readonly PortRange[];
  readonly unreachable?: readonly PortRange[];
  /** Seconds each setup command may take. */
  readonly commandTimeoutMs?: number;
}

export interface NetnsEndpoint {
  readonly namespace: string;
  /** The simulated endpoint's address. */
  readonly address: string;
  /** This host's side of the link. */
  readonly hostAddress: string;
  /** The /30 a test's AddressGuard must allow. */
  readonly cidr: string;
  /** The state each port given in the options should classify as; any other port is closed. */
  expected(port: number): PortState;
  close(): Promise<void>;
}

const NS_PREFIX = 'mpports-';

async function run(cmd: string, args: readonly string[], timeoutMs: number): Promise<string> {
  const { stdout } = await exec(cmd, [...args], { timeout: timeoutMs, maxBuffer: 1 << 20 });
  return stdout;
}

export async function netnsSupport(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { ok: false, reason: 'network namespaces need root' };
  for (const [cmd, args] of [['ip', ['-V']], ['iptables', ['-V']]] as const) {
    try {
      await run(cmd, args, 5000);
    } catch (err) {
      return { ok: false, reason: `\`${cmd}\` is not available (${(err as Error).message.split('\n')[0]})` };
    }
  }
  return { ok: true };
}

// The listener started inside the namespace: accepts and hangs up, prints "ready".
const LISTENER = `
const net = require('node:net');
const [host, ...ports] = process.argv.slice(1);
let pending = ports.length;
if (pending === 0) console.log('ready');
for (const p of ports) {
  net.createServer((s) => s.destroy()).listen({ host, port: Number(p), backlog: 511 }, () => { if (--pending === 0) console.log('ready'); });
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

function waitReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`namespace listener not ready within ${timeoutMs} ms: ${err.slice(0, 300)}`)), timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.length > 4096) out = out.slice(-4096);
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (d: Buffer) => { if (err.length < 4096) err += d.toString(); });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`namespace listener exited (${code}): ${err.slice(0, 300)}`));
    });
  });
}

/** Creates the namespace, the veth pair, the listener and the packet filter rules. */
export async function startNetnsEndpoint(opts: NetnsEndpointOptions): Promise<NetnsEndpoint> {
  if (!Number.isInteger(opts.index) || opts.index < 0 || opts.index > 255) throw new RangeError('index must be 0-255');
  const t = opts.commandTimeoutMs ?? 10_000;
  const ns = `${NS_PREFIX}${opts.index}-${process.pid}`;
  const vHost = `mpp${opts.index}h${process.pid % 100000}`.slice(0, 15);
  const vNs = `mpp${opts.index}n${process.pid % 100000}`.slice(0, 15);
  const hostAddress = `10.213.${opts.index}.1`;
  const address = `10.213.${opts.index}.2`;
  let listener: ChildProcess | undefined;

  const close = async (): Promise<void> => {
    if (listener && listener.exitCode === null) {
      const exited = new Promise((r) => listener?.once('exit', r));
      listener.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    }
    await run('ip', ['netns', 'del', ns], t).catch(() => undefined);
    await run('ip', ['link', 'del', vHost], t).catch(() => undefined);
  };

  // Leftovers of an earlier run with the same index (a crashed test) would collide on the /30.
  const existing = await run('ip', ['netns', 'list'], t).catch(() => '');
  for (const line of existing.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (name.startsWith(`${NS_PREFIX}${opts.index}-`)) {
      const pid = Number(name.slice(`${NS_PREFIX}${opts.index}-`.length));
      let alive = false;
      try { process.kill(pid, 0); alive = true; } catch { alive = false; }
      if (!alive) await run('ip', ['netns', 'del', name], t).catch(() => undefined);
    }
  }

  try {
    const nsx = (args: string[]): Promise<string> => run('ip', ['netns', 'exec', ns, ...args], t);
    await run('ip', ['netns', 'add', ns], t);
    await run('ip', ['link', 'add', vHost, 'type', 'veth', 'peer', 'name', vNs], t);
    await run('ip', ['link', 'set', vNs, 'netns', ns], t);
    await run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', vHost], t);
    await run('ip', ['link', 'set', vHost, 'up'], t);
    await nsx(['ip', 'addr', 'add', `${address}/30`, 'dev', vNs]);
    await nsx(['ip', 'link', 'set', vNs, 'up']);
    await nsx(['ip', 'link', 'set', 'lo', 'up']);
    // Answer every rejected SYN: no ICMP rate limit inside the namespace.
    await nsx(['sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0']).catch(() => undefined);
    await nsx(['sysctl', '-qw', 'net.ipv4.icmp_msgs_per_sec=100000']).catch(() => undefined);
    for (const [a, b] of opts.filtered ?? []) {
      await nsx(['iptables', '-w', '5', '-A', 'INPUT', '-p', 'tcp', '-d', address, '--dport', a === b ? `${a}` : `${a}:${b}`, '-j', 'DROP']);
    }
    for (const [a, b] of opts.unreachable ?? []) {
      await nsx(['iptables', '-w', '5', '-A', 'INPUT', '-p', 'tcp', '-d', address, '--dport', a === b ? `${a}` : `${a}:${b}`,
        '-j', 'REJECT', '--reject-with', 'icmp-host-unreachable']);
    }
    if ((opts.open ?? []).length > 0) {
      listener = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', LISTENER, address, ...(opts.open ?? []).map(String)],
        { stdio: ['pipe', 'pipe', 'pipe'] });
      await waitReady(listener, t);
    }
  } catch (err) {
    await close();
    throw err;
  }

  const inRanges = (port: number, ranges: readonly PortRange[] | undefined): boolean => (ranges ?? []).some(([a, b]) => port >= a && port <= b);
  return {
    namespace: ns, address, hostAddress, cidr: `10.213.${opts.index}.0/30`,
    expected: (port) => (inRanges(port, opts.filtered) ? 'filtered' : inRanges(port, opts.unreachable) ? 'unreachable'
      : (opts.open ?? []).includes(port) ? 'open' : 'closed'),
    close,
  };
}
