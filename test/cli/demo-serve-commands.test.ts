// The commands `miprobe demo --serve` prints, run exactly as printed (through `sh -c`,
// with `miprobe` on PATH): diagnose reports exactly the scenario's expected findings;
// tsql logs in (SELECT 1) with nothing but the printed line; dig and nmap answer.
// Everything stays on loopback (MIPROBE_ALLOW_CIDRS=127.0.0.0/8), and the external
// programs run sandboxed (test/helpers/sandbox.ts): their /etc/hosts is empty and their
// resolver is 127.0.0.1, so a printed command that needed a name looked up would fail
// here instead of asking the machine's real DNS for a *.database.windows.net name.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { compareFindings } from '../../src/cli/demo.js';
import type { DiagnosisReport } from '../../src/diagnosis/report.js';
import { launcherPath } from '../../src/launcher.js';
import { findScenario } from '../../src/sim/scenarios.js';
import { runSandboxed, sandboxSkip, type RunResult } from '../helpers/sandbox.js';

const launcher = launcherPath();
const notBuilt = launcher ? false : 'not built (npm run build)';

t.setTimeout(600_000);

interface Printed {
  readonly text: string;
  readonly diagnose: string;
  readonly dig: string;
  readonly nmap: readonly string[];
  readonly tsql?: string;
}

/** The environment of every run: the address guard on, no other MIPROBE_* setting of the machine's. */
function cleanEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('MIPROBE_')) env[k] = v;
  return { ...env, MIPROBE_ALLOW_CIDRS: '127.0.0.0/8', ...extra };
}

/** `miprobe demo --serve --scenario <name>` in text; the commands it printed, and a way to stop it. */
async function serveText(t: Test, scenario: string): Promise<Printed> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [launcher ?? '', 'demo', '--serve', '--scenario', scenario], { env: cleanEnv() });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => { child.kill('SIGTERM'); await exited; });
  const text = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`demo --serve printed no commands within 90 s: ${out}`)), 90_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      // The description is one write ending in a blank line after the commands.
      if (out.includes('Point tools at it') && out.endsWith('\n')) { clearTimeout(timer); resolve(out); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`demo --serve exited with ${String(code)}: ${out}`)); });
  });
  const lines = text.slice(text.indexOf('Point tools at it')).split('\n').slice(1)
    .filter((l) => l.startsWith('  ') && !l.trimStart().startsWith('#')).map((l) => l.trim());
  const pick = (re: RegExp): string[] => lines.filter((l) => re.test(l));
  return {
    text,
    diagnose: pick(/^MIPROBE_ALLOW_CIDRS=127\.0\.0\.0\/8 miprobe diagnose /)[0] ?? '',
    dig: pick(/^dig /)[0] ?? '',
    nmap: pick(/^nmap /),
    ...(pick(/(^| )tsql /)[0] ? { tsql: pick(/(^| )tsql /)[0] } : {}),
  };
}

/** A directory with `miprobe` in it (the built launcher), for PATH. */
function miprobeOnPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'miprobe-bin-'));
  const script = join(dir, 'miprobe');
  writeFileSync(script, `#!/bin/sh\nexec '${process.execPath}' '${launcher ?? ''}' "$@"\n`);
  chmodSync(script, 0o755);
  return dir;
}

/** Runs a printed command line through sh, as a user's shell would. */
function runLine(line: string, env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', line], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => { clearTimeout(kill); resolve({ code, stdout, stderr }); });
    child.stdin.end();
  });
}

const bin = launcher ? miprobeOnPath() : '';

// Scenarios whose printed diagnose needs each kind of setting: the Azure resolver stand-in, a redirect, a SQL login
// with its password file, TDS 8 strict, two resolvers, missing required names, revocation by CRL and a slow responder.
const DIAGNOSED = ['healthy', 'redirect-healthy', 'login-failed', 'proxy-healthy-strict', 'dns-disagree', 'custom-dns-missing',
  'revocation-revoked-crl', 'revocation-responder-slow'];

for (const name of DIAGNOSED) {
  t.test(`${name}: the printed diagnose reports exactly the scenario's findings`, { skip: notBuilt, timeout: 180_000 }, async (t) => {
    const printed = await serveText(t, name);
    const expected = findScenario(name)?.expectFindings ?? ['no such scenario'];
    t.match(printed.text, `# reports exactly the scenario's findings: ${expected.join(', ') || 'none'}\n`, 'the expected findings are printed above the command');
    t.not(printed.diagnose, '', 'a diagnose command is printed');
    const r = await runLine(`${printed.diagnose} --json`, cleanEnv({ PATH: `${bin}:${process.env.PATH ?? ''}` }));
    t.not(r.code, 2, `not a usage error: ${r.stderr.slice(0, 400)}`);
    let report: DiagnosisReport | undefined;
    try { report = JSON.parse(r.stdout) as DiagnosisReport; } catch { t.fail(`no JSON report: ${r.stderr.slice(0, 400)}`); }
    const comparison = compareFindings(expected, report?.findings ?? []);
    if (comparison.stalled) t.comment(`the diagnosis was stalled (busy machine): ${comparison.stalled.evidence}; not counted: HOST-001 ${comparison.stalled.caused.join(' ')}`);
    t.same(comparison.found, [...expected].sort(), `found ${comparison.found.join(', ') || 'none'}`);
  });
}

const tsqlSkip = notBuilt || sandboxSkip(['tsql']);

t.test('the printed tsql logs in (SELECT 1) with no name looked up, at the gateway and at a redirect node; a refused login says so',
  { skip: tsqlSkip, timeout: 240_000 }, async (t) => {
    for (const name of ['healthy', 'redirect-healthy', 'login-failed']) {
      const printed = await serveText(t, name);
      t.ok(printed.tsql, `${name}: a tsql command is printed`);
      t.notMatch(printed.tsql ?? '', / -H /, 'by freetds.conf section, not by address: the gateway routes by the name in LOGIN7');
      // Sandboxed: an empty /etc/hosts and a resolver that is not there. The printed line must need neither.
      const r = await runSandboxed('sh', ['-c', printed.tsql ?? 'false'], { env: cleanEnv(), stdin: 'select 1\ngo\nquit\n', timeoutMs: 60_000 });
      if (name === 'login-failed') {
        t.match(r.stdout + r.stderr, /Msg 18456|Login failed/, `${name}: the engine refuses the login, as the scenario rehearses`);
        continue;
      }
      t.equal(r.code, 0, `${name}: tsql exit code (${(r.stderr || r.stdout).slice(0, 300)})`);
      t.match(r.stdout, /\(1 row affected\)/, `${name}: select 1 answered`);
    }
  });

t.test('the printed dig and nmap answer: the instance name resolves to the gateway, nmap names SQL Server',
  { skip: notBuilt || sandboxSkip(['dig', 'nmap']), timeout: 240_000 }, async (t) => {
    const printed = await serveText(t, 'healthy');
    const gateway = /gateway +(127\.\d+\.\d+\.\d+):1433/.exec(printed.text)?.[1] ?? '?';
    const dig = await runSandboxed('sh', ['-c', printed.dig], { env: cleanEnv(), timeoutMs: 30_000 });
    t.equal(dig.code, 0, dig.stderr);
    t.match(dig.stdout, new RegExp(`\\sIN\\s+A\\s+${gateway.replace(/\./g, '\\.')}\\n`), 'the chain ends at the gateway address');
    t.equal(printed.nmap.length, 1, 'one TDS endpoint without a redirect');
    const nmap = await runSandboxed('sh', ['-c', printed.nmap[0] ?? 'false'], { env: cleanEnv(), timeoutMs: 200_000 });
    t.equal(nmap.code, 0, nmap.stderr);
    t.comment(`nmap: ${/^1433\/tcp.*$/m.exec(nmap.stdout)?.[0] ?? nmap.stdout}`);
    t.match(nmap.stdout, /1433\/tcp +open +ms-sql-s +Microsoft SQL Server 2014 12\.00\.2000/, 'MI\'s version, as miprobe reads it from PRELOGIN');
  });
