// Runs the installed executable (dist/cli/launch.cjs, built by `npm run build`) as a user would,
// capturing its exit code and both streams: process warnings only show on the real stderr.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'launch.cjs');

export interface RealRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export function runReal(argv: readonly string[], env: Record<string, string> = {}): Promise<RealRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...argv], { env: { ...process.env, MIPROBE_ALLOW_CIDRS: '127.0.0.0/8', ...env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      });
  });
}
