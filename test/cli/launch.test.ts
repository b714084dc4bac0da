// The installed executable (dist/cli/launch.cjs): the bundle dist/miprobe.cjs with its code
// cache, as `npx miprobe` runs it, and the fallback to the module entry point. These run the
// build output, so `npm test` builds first.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mergeLayers } from '../../src/config/load.js';
import { findScenario } from '../../src/sim/scenarios.js';
import { startSimNetwork } from '../../src/sim/network.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const LAUNCH = join(ROOT, 'dist/cli/launch.cjs');
const PACKAGE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Outcome { readonly code: number; readonly stdout: string; readonly stderr: string }

async function launch(args: readonly string[], env: Record<string, string> = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [LAUNCH, ...args], { env: { ...process.env, MIPROBE_ALLOW_CIDRS: '127.0.0.0/8', ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

t.test('the build made the bundle, its code cache and the launcher; package.json points at it', async (t) => {
  t.ok(existsSync(join(ROOT, 'dist/miprobe.cjs')), 'bundle');
  t.ok(existsSync(join(ROOT, 'dist/miprobe.cjs.cache')), 'code cache');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  t.equal(pkg.bin.miprobe, 'dist/cli/launch.cjs');
});

t.test('--version through the bundle reads package.json (import.meta.url works in the bundle)', async (t) => {
  const r = await launch(['--version'], { MIPROBE_DEBUG_LAUNCH: '1' });
  t.equal(r.code, 0);
  t.equal(r.stdout.trim(), PACKAGE_VERSION);
  t.match(r.stderr, /code cache accepted/, 'the cache fits this Node binary');
});

t.test('a cache made under other V8 flags is rejected, and the bundle runs without it', async (t) => {
  const { stdout, stderr } = await run(process.execPath, ['--max-old-space-size=96', LAUNCH, '--version'],
    { env: { ...process.env, MIPROBE_DEBUG_LAUNCH: '1' }, timeout: 60_000 });
  t.equal(stdout.trim(), PACKAGE_VERSION);
  t.match(stderr, /code cache rejected/);
});

t.test('a user mistake through the bundle: one line and exit 2, no stack trace', async (t) => {
  const r = await launch(['diagnose', 'not a host name']);
  t.equal(r.code, 2);
  t.match(r.stderr, /^miprobe: /);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

t.test('a whole diagnosis through the bundle, with the dummy login (tedious loads from node_modules)', async (t) => {
  const scenario = findScenario('healthy');
  if (!scenario) throw new Error('no healthy scenario');
  const network = await startSimNetwork({ scenario, block: '127.113.0' });
  const dir = await mkdtemp(join(tmpdir(), 'miprobe-launch-'));
  t.teardown(async () => {
    await network.close();
    await rm(dir, { recursive: true, force: true });
  });
  const config = join(dir, 'config.json');
  await writeFile(config, JSON.stringify(mergeLayers({ timeoutMs: network.suggestedTimeoutMs }, network.configLayer(), { probe: { login: 'dummy' } })));
  for (const [label, env] of [['bundle', { MIPROBE_DEBUG_LAUNCH: '1' }], ['modules (MIPROBE_NO_BUNDLE)', { MIPROBE_NO_BUNDLE: '1' }]] as const) {
    const r = await launch(['diagnose', network.fqdn, '--json', '--config', config], { ...env, ...network.secretsEnv() });
    t.equal(r.code, 0, `${label}: exit 0 (${r.stderr.trim()})`);
    const report = JSON.parse(r.stdout) as { verdict: string; dataPath?: { login?: { code?: string; number?: number } }; revocation?: { chains: unknown[] } };
    t.equal(report.verdict, 'healthy', `${label}: verdict`);
    t.match(report.dataPath?.login, { mode: 'dummy', code: 'LOGIN_FAILED', number: 18456 }, `${label}: the dummy login reached the engine`);
    t.equal(report.dataPath?.login?.number, 18456, `${label}: error 18456`);
    t.ok((report.revocation?.chains.length ?? 0) > 0, `${label}: revocation ran (undici through the bundle)`);
    if (label === 'bundle') t.match(r.stderr, /code cache accepted/);
    else t.notMatch(r.stderr, /code cache/, 'the fallback does not touch the bundle');
  }
});
