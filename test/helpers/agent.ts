// Runs `miprobe agent` in-process with a captured io: its URL comes from the
// "agent started" log line; stop() aborts the io signal (what SIGTERM does).
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { main } from '../../src/cli/main.js';

export interface RunningAgent {
  readonly url: string;
  readonly logs: () => Array<Record<string, unknown>>;
  readonly stderr: () => string;
  /** Aborts the io signal and resolves with the exit code. */
  stop(): Promise<number>;
  readonly exited: Promise<number>;
  /** Sends the agent a SIGHUP (in-process: emits the event) and waits for the reload log line. */
  reload(): Promise<Record<string, unknown>>;
}

export async function writeConfig(config: object, dir?: string): Promise<string> {
  const d = dir ?? await mkdtemp(join(tmpdir(), 'miprobe-agent-'));
  const path = join(d, 'agent.yaml');
  await writeFile(path, YAML.stringify(config));
  return path;
}

async function waitFor<T>(fn: () => T | undefined, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startAgent(argv: readonly string[], env: Record<string, string> = {}): Promise<RunningAgent> {
  let out = '';
  let err = '';
  const controller = new AbortController();
  const lines = (): Array<Record<string, unknown>> => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const exited = main(['agent', ...argv], {
    stdout: { write: (s: string) => { out += s; return true; } },
    stderr: { write: (s: string) => { err += s; return true; } },
    env: { MIPROBE_ALLOW_CIDRS: '127.0.0.0/8', ...env },
    signal: controller.signal,
  });
  let exitCode: number | undefined;
  void exited.then((c) => { exitCode = c; });
  const started = await waitFor(() => (exitCode !== undefined ? { url: '', failed: true } : lines().find((l) => l.msg === 'agent started') as { url: string } | undefined), 10_000, 'agent start');
  if (!started.url) throw new Error(`agent exited with ${exitCode}: ${err}`);
  return {
    url: started.url, logs: lines, stderr: () => err, exited,
    stop: async () => { controller.abort(); return exited; },
    reload: async () => {
      const before = lines().length;
      process.emit('SIGHUP', 'SIGHUP');
      return waitFor(() => lines().slice(before).find((l) => l.msg === 'configuration reloaded' || String(l.msg).startsWith('configuration reload failed')), 10_000, 'reload');
    },
  };
}

export { waitFor };
