#!/usr/bin/env node
// The executable: wires process streams and signals to main().
import { setMaxListeners } from 'node:events';
import { main } from './main.js';

const controller = new AbortController();
// Every concurrent probe listens to this one signal; many listeners are expected.
setMaxListeners(0, controller.signal);
const stop = (): void => controller.abort();
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal })
  .then((code) => { process.exitCode = code; });
