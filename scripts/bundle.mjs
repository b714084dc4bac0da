// Build step after tsc: bundle the CLI into dist/miprobe.cjs and make V8's code cache for it
// (dist/miprobe.cjs.cache) by running one diagnosis of the simulated network on loopback
// (127.121.0.0/24, the address guard on). dist/cli/launch.cjs runs the pair; see its header.
// If the training run fails, the bundle still works without a cache, so this warns and goes on.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = join(root, 'dist/miprobe.cjs');
const cacheFile = `${bundle}.cache`;
const shim = join(root, 'scripts/import-meta-url.mjs');

await rm(cacheFile, { force: true });
await esbuild.build({
  entryPoints: [join(root, 'dist/cli/bin.js')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  charset: 'ascii', // launch.cts reads the bundle as latin1
  // tedious (with @azure/identity) is half the size and only a login needs it: it loads from node_modules.
  external: ['tedious'],
  // src/version.ts finds package.json from import.meta.url; in the bundle that is dist/miprobe.cjs.
  define: { 'import.meta.url': 'import_meta_url' },
  inject: [shim],
  // ES module builds where packages have them: no CommonJS interop copies, and unused exports dropped.
  mainFields: ['module', 'main'],
  logLevel: 'warning',
});

const run = promisify(execFile);
const { startSimNetwork } = await import('../dist/sim/network.js');
const { findScenario } = await import('../dist/sim/scenarios.js');
const { mergeLayers } = await import('../dist/config/load.js');
const network = await startSimNetwork({ scenario: findScenario('healthy'), block: '127.121.0' });
const dir = await mkdtemp(join(tmpdir(), 'miprobe-bundle-'));
try {
  const config = join(dir, 'config.json');
  await writeFile(config, JSON.stringify(mergeLayers(network.configLayer(), { probe: { login: 'none' } })));
  await run(process.execPath, [join(root, 'dist/cli/launch.cjs'), 'diagnose', network.fqdn, '--config', config], {
    // V8 rejects a cache made under other flags: MIPROBE_RUNTIME_NODE_OPTIONS names the run-time ones (the Dockerfile's heap cap).
    env: { ...process.env, NODE_OPTIONS: process.env.MIPROBE_RUNTIME_NODE_OPTIONS ?? process.env.NODE_OPTIONS ?? '',
      MIPROBE_ALLOW_CIDRS: '127.0.0.0/8', MIPROBE_WRITE_CODE_CACHE: cacheFile }, timeout: 60_000,
  });
  console.log('dist/miprobe.cjs: bundled, code cache written');
} catch (err) {
  console.warn(`dist/miprobe.cjs: bundled, but no code cache (the training diagnosis failed: ${err.message}); miprobe works, only its start is slower`);
  await rm(cacheFile, { force: true });
} finally {
  await network.close();
  await rm(dir, { recursive: true, force: true });
}
