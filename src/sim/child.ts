// The simulated network in a child process: `miprobe demo --serve --json` started by
// `demo`, which reads the one JSON line it prints. The simulator's work (DNS answers,
// TLS handshakes, CRL and OCSP signing) then runs on another process's clock, not
// inside the timings of the probes that talk to it.
//
// API: startSimChild(launcher, scenario, opts) -> Promise<SimChild>     throws Error with the child's stderr
import { spawn } from 'node:child_process';
import type { SimNetworkInfo } from './network-info.js';

export interface SimChild {
  readonly info: SimNetworkInfo;
  /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
  close(): Promise<void>;
}

/** Largest first line accepted from the child (the JSON, with its commands, is about 4 KB). */
const MAX_LINE_BYTES = 64 * 1024;
const MAX_STDERR_BYTES = 16 * 1024;

export function startSimChild(launcher: string, scenario: string, opts: { readonly timeoutMs?: number; readonly signal?: AbortSignal } = {})
  : Promise<SimChild> {
  const child = spawn(process.execPath, [launcher, 'demo', '--serve', '--json', '--scenario', scenario], {
    // The child ends when this process closes its stdin (it dies with us even without a signal).
    env: { ...process.env, MIPROBE_SERVE_UNTIL_STDIN_ENDS: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => { if (stderr.length < MAX_STDERR_BYTES) stderr += c; });
  return new Promise<SimChild>((resolve, reject) => {
    let out = '';
    const fail = (why: string): void => {
      cleanup();
      void close().then(() => reject(new Error(`the simulated network did not start: ${why}${stderr ? `\n${stderr.trim()}` : ''}`)));
    };
    const timer = setTimeout(() => fail(`no answer within ${opts.timeoutMs ?? 60_000} ms`), opts.timeoutMs ?? 60_000);
    const onAbort = (): void => fail('aborted');
    const onData = (c: Buffer): void => {
      out += c.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl === -1) {
        if (out.length > MAX_LINE_BYTES) fail(`a first line longer than ${MAX_LINE_BYTES} bytes`);
        return;
      }
      cleanup();
      child.stdout.resume(); // anything after the line is not ours to read
      try {
        resolve({ info: JSON.parse(out.slice(0, nl)) as SimNetworkInfo, close });
      } catch (err) {
        void close().then(() => reject(new Error(`the simulated network printed something other than JSON: ${(err as Error).message}`)));
      }
    };
    const onExit = (code: number | null): void => fail(`it exited with ${code ?? 'a signal'}`);
    function cleanup(): void {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}
