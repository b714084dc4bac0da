#!/usr/bin/env node
// The executable: wires process streams and signals to main().
import { main } from './main.js';

const controller = new AbortController();
const stop = (): void => controller.abort();
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

const argv = process.argv.slice(2);

/**
 * Exits once stdout and stderr have taken everything written. A one-shot command that just
 * returned would otherwise leave Node waiting for V8's background work (optimising compiles,
 * concurrent GC) before exiting: 30-100 ms of nothing on a busy machine.
 */
function exitWhenFlushed(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal })
  .then((code) => {
    process.exitCode = code;
    // The agent ends by itself after SIGTERM, once its logger and server have closed.
    if (argv[0] !== 'agent') exitWhenFlushed(code);
  });
