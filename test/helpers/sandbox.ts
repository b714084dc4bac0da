// Runs another program (nmap, tsql, tshark) so that it cannot send a DNS query off
// this machine: in a private mount namespace, /etc/resolv.conf names 127.0.0.1 and
// /etc/hosts holds only the names we give it. A simulated gateway redirects clients
// to real-shaped node names; a client that resolved them itself would ask the host's
// real resolver. Needs root (unshare --mount); `sandboxSkip()` says why when not.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let skip: false | string | undefined;

/** false when sandboxed runs work here, else the reason (for `{ skip: reason }`). */
export function sandboxSkip(tools: readonly string[] = []): false | string {
  for (const tool of tools) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  if (skip === undefined) {
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true'], { encoding: 'utf8' });
    skip = r.status === 0 ? false : `needs unshare --mount (root): ${(r.stderr || r.error?.message || 'failed').trim()}`;
  }
  return skip;
}

export interface SandboxOptions {
  /** name -> address, written as the whole /etc/hosts the program sees. */
  readonly hosts?: Readonly<Record<string, string>>;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly stdin?: string;
  readonly timeoutMs?: number;
}

export function runSandboxed(command: string, args: readonly string[], opts: SandboxOptions = {}): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'miprobe-sandbox-'));
  const hosts = join(dir, 'hosts');
  const resolv = join(dir, 'resolv.conf');
  writeFileSync(hosts, ['127.0.0.1 localhost', ...Object.entries(opts.hosts ?? {}).map(([name, ip]) => `${ip} ${name}`), ''].join('\n'));
  writeFileSync(resolv, 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n');
  const script = 'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"';
  return new Promise<RunResult>((resolve) => {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', hosts, resolv, command, ...args], {
      env: { ...process.env, ...opts.env }, ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const kill = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('close', (code) => {
      clearTimeout(kill);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}
