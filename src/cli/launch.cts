#!/usr/bin/env node
// The installed executable. It runs the single-file bundle dist/miprobe.cjs (one file to
// read instead of hundreds to resolve) with V8's code cache dist/miprobe.cjs.cache, which
// the build made by running a diagnosis (scripts/bundle.mjs). Loading the modules used to
// cost more than the diagnosis itself; see docs/benchmarks.md.
// Without a bundle (a tsc-only build) it falls back to the module entry point bin.js.
// A cache that does not fit this Node binary is rejected by V8, and the bundle runs
// without it: slower, same behaviour. Nothing is written at run time (read-only images).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';

// undici parses HTTP with llhttp compiled to WebAssembly. V8 tiers hot wasm functions up to TurboFan on a
// background thread, and a process exits only once that compile is done: 200-300 ms after a diagnosis that
// fetched a few CRLs, for code that has already run. The baseline compiler alone is plenty for our volumes.
// Set before the bundle (and its code cache, made under the same flag) is loaded.
setFlagsFromString('--liftoff-only');

const bundle = join(__dirname, '..', 'miprobe.cjs');
const cacheFile = `${bundle}.cache`;

function readCache(): Buffer | undefined {
  try {
    return readFileSync(cacheFile);
  } catch {
    return undefined;
  }
}

function runBundle(): void {
  // The bundle is ASCII only (esbuild's charset: 'ascii'), so latin1 is exact and much faster than utf8.
  const source = readFileSync(bundle, 'latin1').replace(/^#!.*/, '');
  const cachedData = readCache();
  const script = new Script(wrap(source), { filename: bundle, ...(cachedData ? { cachedData } : {}) });
  const status = cachedData === undefined ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted';
  if (process.env.MIPROBE_DEBUG_LAUNCH) process.stderr.write(`miprobe: code cache ${status}\n`);
  // The build's training run asks for a fresh cache once the diagnosis has compiled what it uses.
  const writeTo = process.env.MIPROBE_WRITE_CODE_CACHE;
  if (writeTo) process.once('exit', () => writeFileSync(writeTo, script.createCachedData()));
  const fn = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  const mod = { exports: {} };
  fn.call(mod.exports, mod.exports, createRequire(bundle), mod, bundle, join(__dirname, '..'));
}

if (existsSync(bundle) && !process.env.MIPROBE_NO_BUNDLE) runBundle();
else void import(pathToFileURL(join(__dirname, 'bin.js')).href);
