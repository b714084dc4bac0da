// A real Prometheus (Debian's binary) bound to loopback, scraping every
// second, with its HTTP API for queries. Skips cleanly when not installed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

export function hasBinary(path: string): boolean {
  return spawnSync(path, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A free TCP port on a loopback address (bind port 0, read it, close). */
export async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host, port: 0 }, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface QueryResult {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export interface RunningPrometheus {
  readonly url: string;
  query(expr: string): Promise<QueryResult[]>;
  /** Polls `expr` until `ok` accepts the result (or the time runs out, then returns the last result). */
  waitFor(expr: string, ok: (r: QueryResult[]) => boolean, ms?: number): Promise<QueryResult[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: { host: string; scrapeConfigs: object[]; ruleFiles?: string[] }): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'miprobe-prom-'));
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
    rule_files: opts.ruleFiles ?? [],
    scrape_configs: opts.scrapeConfigs,
  };
  await writeFile(join(dir, 'prometheus.yml'), YAML.stringify(config));
  const port = await freePort(opts.host);
  const url = `http://${opts.host}:${port}`;
  let log = '';
  const child: ChildProcess = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--web.listen-address=${opts.host}:${port}`,
    `--storage.tsdb.path=${join(dir, 'data')}`, '--log.level=warn', '--web.enable-lifecycle'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => { log += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-20_000); });

  const query = async (expr: string): Promise<QueryResult[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5000) });
    const body = await res.json() as { status: string; error?: string; data?: { resultType: string; result: QueryResult[] | [number, string] } };
    if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
    const data = body.data;
    if (data?.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
    return (data?.result ?? []) as QueryResult[];
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) break;
    } catch { /* not yet */ }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`prometheus did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url, query,
    async waitFor(expr, ok, ms = 20_000) {
      const until = Date.now() + ms;
      let last: QueryResult[] = [];
      for (;;) {
        last = await query(expr);
        if (ok(last) || Date.now() > until) return last;
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
