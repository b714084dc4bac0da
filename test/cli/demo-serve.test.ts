// `miprobe demo --serve`: the simulated network stays up for other tools until
// SIGINT/SIGTERM, then closes everything and exits 0. With --json it prints exactly one
// JSON line saying where everything listens; without, what a user needs to point tools at it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import t from 'tap';
import { launcherPath } from '../../src/launcher.js';
import type { SimNetworkInfo } from '../../src/sim/network-info.js';

const launcher = launcherPath();

function start(args: readonly string[]): { child: ChildProcessWithoutNullStreams; firstOutput: Promise<string>; exit: Promise<number | null>; stdout: () => string } {
  const child = spawn(process.execPath, [launcher ?? '', 'demo', '--serve', ...args], { env: { ...process.env, MIPROBE_ALLOW_CIDRS: '127.0.0.0/8' } });
  let out = '';
  const firstOutput = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing printed within 60 s: ${out}`)), 60_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) { clearTimeout(timer); resolve(out); }
    });
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, firstOutput, exit, stdout: () => out };
}

function connectable(endpoint: string): Promise<boolean> {
  const at = endpoint.lastIndexOf(':');
  return new Promise((resolve) => {
    const s = connect({ host: endpoint.slice(0, at), port: Number(endpoint.slice(at + 1)) });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

t.test('--serve --json: one JSON line, the network answers until SIGTERM, then exit 0 and its files are removed', { skip: launcher ? false : 'not built', timeout: 120_000 }, async (t) => {
  const run = start(['--json', '--scenario', 'redirect-healthy']);
  t.teardown(() => { run.child.kill('SIGKILL'); });
  const line = await run.firstOutput;
  const info = JSON.parse(line.trim()) as SimNetworkInfo;
  t.match(info, {
    scenario: 'redirect-healthy', fqdn: 'sim-mi.0a1b2c3d4e5f.database.windows.net', subnet: /^127\.100\.\d+\.0\/26$/,
    gateway: /^127\.100\.\d+\.4:1433$/, node: /^127\.100\.\d+\.5:11000$/,
    nodeName: 'a1b2c3d4e5f6.tr1234.westeurope1-a.worker.database.windows.net', login: 'dummy', strict: false,
  });
  t.equal(info.redirectTo, 'a1b2c3d4e5f6.tr1234.westeurope1-a.worker.database.windows.net:11000');
  t.same(info.expectFindings, ['LOGIN-012', 'REDIRECT-005']);
  t.equal(dirname(info.freetdsConf), dirname(info.caFile), 'freetds.conf is written next to the CA file');
  t.equal(info.commands.tsql, `FREETDSCONF=${info.freetdsConf} tsql -S ${info.nodeName ?? ''} -U miprobe -P Sim-Passw0rd-4-demo`,
    'through a redirect, tsql is sent to the node by its section (tsql would look the routed name up in the system resolver)');
  t.equal(info.resolvers.length, 1);
  t.match(info.resolvers[0], /^127\.100\.\d+\.53:\d+$/);
  t.doesNotThrow(() => accessSync(info.caFile, constants.R_OK), 'the CA file is readable');
  t.equal(statSync(info.caFile).mode & 0o777, 0o644, 'readable by other users too');
  t.equal(statSync(dirname(info.caFile)).mode & 0o777, 0o755);
  t.equal(await connectable(info.gateway), true, 'the gateway accepts connections');
  t.equal(await connectable(info.node ?? ''), true, 'so does the node');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(run.stdout().trim().split('\n').length, 1, 'exactly one line on stdout');
  run.child.kill('SIGTERM');
  t.equal(await run.exit, 0, 'SIGTERM ends it with exit code 0');
  // Its sockets went with the process (the network runs in it). Connecting again would test nothing: another
  // demo (a parallel test file) may take the freed block 127.100.N at once, as a user's second demo would.
  t.throws(() => accessSync(info.caFile), 'the temporary CA file is removed');
  t.throws(() => accessSync(info.freetdsConf), 'so is freetds.conf');
});

t.test('--serve --json without a redirect: node, nodeName and redirectTo are null, not missing', { skip: launcher ? false : 'not built', timeout: 120_000 }, async (t) => {
  const run = start(['--json']);
  t.teardown(() => { run.child.kill('SIGKILL'); });
  const info = JSON.parse((await run.firstOutput).trim()) as Record<string, unknown>;
  for (const key of ['node', 'nodeName', 'redirectTo']) {
    t.ok(key in info, `"${key}" is present`);
    t.equal(info[key], null, `"${key}" is null`);
  }
  t.match(info, { scenario: 'healthy', gateway: /^127\.100\.\d+\.4:1433$/, caFile: /sim-root\.pem$/, expectFindings: ['LOGIN-012'] });
  t.equal(statSync(String(info.sqlPasswordFile)).mode & 0o777, 0o600, 'the password file is only the user\'s');
  run.child.kill('SIGTERM');
  t.equal(await run.exit, 0);
});

t.test('--serve in text: where everything listens and how to point tools at it; SIGINT ends it', { skip: launcher ? false : 'not built', timeout: 120_000 }, async (t) => {
  const run = start([]);
  t.teardown(() => { run.child.kill('SIGKILL'); });
  await run.firstOutput;
  await new Promise((r) => setTimeout(r, 500));
  const text = run.stdout();
  t.match(text, /Simulated managed instance network "healthy" is up; stop it with Ctrl-C/);
  t.match(text, /instance +sim-mi\.0a1b2c3d4e5f\.database\.windows\.net/);
  t.match(text, /gateway +127\.100\.\d+\.4:1433/);
  t.match(text, /CA file +\/\S+sim-root\.pem/);
  t.match(text, /freetds\.conf +\/\S+\/freetds\.conf/);
  t.match(text, /# reports exactly the scenario's findings: LOGIN-012\n/);
  t.match(text, /MIPROBE_ALLOW_CIDRS=127\.0\.0\.0\/8 miprobe diagnose sim-mi\.0a1b2c3d4e5f\.database\.windows\.net --dns-server 127\.100\.\d+\.53:\d+ --azure-dns 127\.100\.\d+\.63:\d+ --subnet 127\.100\.\d+\.0\/26 --ca-file \S+ --login dummy --timeout 1500( --revocation-url http:\/\/\S+:\d+\/\S*){8}\n/);
  t.match(text, /\n  nmap -n -Pn -sV -p 1433 127\.100\.\d+\.4\n/);
  t.match(text, /\n  FREETDSCONF=\S+\/freetds\.conf tsql -S sim-mi\.0a1b2c3d4e5f\.database\.windows\.net -U miprobe -P Sim-Passw0rd-4-demo\n/);
  t.notMatch(text, /tsql -H/, 'no tsql by address: the gateway routes by the server name in LOGIN7');
  run.child.kill('SIGINT');
  t.equal(await run.exit, 0, 'SIGINT ends it with exit code 0');
});

t.test('--serve --json into a reader that goes away (| head -c 0): exit 0, no stack trace, its files removed', { skip: launcher ? false : 'not built', timeout: 120_000 }, async (t) => {
  // stdout is a pipe whose reader is closed before the JSON line is written: the write fails with EPIPE.
  const child = spawn(process.execPath, [launcher ?? '', 'demo', '--serve', '--json'], { env: { ...process.env, MIPROBE_ALLOW_CIDRS: '127.0.0.0/8', TMPDIR: t.testdir() } });
  child.stdout.destroy();
  let err = '';
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  t.equal(code, 0);
  t.equal(err, '', 'nothing on stderr');
  const { readdirSync } = await import('node:fs');
  t.same(readdirSync(process.env.TAP_FIXTURES ?? t.testdirName).filter((f) => f.startsWith('miprobe-sim-')), [], 'the simulated network\'s directory is gone');
});
