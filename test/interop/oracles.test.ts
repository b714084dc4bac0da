// Independent oracles: tools built by others against real SQL Servers judge the
// simulated network (`miprobe demo --serve`) and what miprobe reports about it.
//   - nmap -sV names the gateway and the redirect node Microsoft SQL Server, with the
//     version miprobe reads from PRELOGIN (its fingerprints come from real servers);
//   - nmap's ssl-cert script (TLS inside TDS) reads the certificates miprobe reports;
//   - tshark's TDS dissector decodes a capture of a diagnosis with nothing malformed;
//   - tedious (no serverName) and FreeTDS tsql log in, also through a redirect whose
//     node certificate names only the node.
// Every external program runs sandboxed (test/helpers/sandbox.ts): the node names are
// real-shaped, and a client that looked them up itself would ask the host's resolver.
import { createHash, X509Certificate } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import tedious from 'tedious';
import type { DiagnosisReport } from '../../src/diagnosis/report.js';
import { launcherPath } from '../../src/launcher.js';
import type { SimNetworkInfo } from '../../src/sim/network-info.js';
import { runSandboxed, sandboxSkip } from '../helpers/sandbox.js';
import { hostPort, serveScenario } from '../helpers/served.js';

/** `miprobe diagnose` against a served network, as a separate process; the parsed JSON report. */
async function diagnoseServed(info: SimNetworkInfo, extra: readonly string[] = []): Promise<DiagnosisReport> {
  const launcher = launcherPath();
  if (!launcher) throw new Error('not built');
  const args = [launcher, 'diagnose', info.fqdn, '--json', '--dns-server', ...info.resolvers, '--ca-file', info.caFile,
    '--subnet', info.subnet, '--login', 'dummy', '--timeout', '5000', ...extra];
  return new Promise<DiagnosisReport>((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, MIPROBE_ALLOW_CIDRS: '127.0.0.0/8' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    child.on('close', () => {
      try {
        resolve(JSON.parse(out) as DiagnosisReport);
      } catch {
        reject(new Error(`diagnose printed no JSON: ${err.slice(0, 500)}`));
      }
    });
  });
}

function sha1Hex(pem: string): string {
  return createHash('sha1').update(new X509Certificate(pem).raw).digest('hex');
}

/** PRELOGIN's 12.0.2000.8 as nmap prints it: 12.00.2000. */
function nmapVersion(version: string): string {
  const [major, minor, build] = version.split('.');
  return `${major}.${(minor ?? '0').padStart(2, '0')}.${build}`;
}

// nmap -sV waits for banners on the node's port: the file needs more than the suite's default 120 s under load.
t.setTimeout(600_000);

const nmapSkip = sandboxSkip(['nmap']);

t.test('nmap -sV identifies the gateway and the node as SQL Server, with the version miprobe reports', { skip: nmapSkip, timeout: 240_000 }, async (t) => {
  const { info } = await serveScenario(t, 'redirect-healthy');
  const report = await diagnoseServed(info, ['--no-revocation']);
  const [gw, gwPort] = hostPort(info.gateway);
  const [node, nodePort] = hostPort(info.node ?? '');
  const reported = report.dataPath?.prelogin?.ok ? report.dataPath.prelogin.version : '?';
  const nodeReported = report.dataPath?.redirect?.path?.prelogin?.ok ? report.dataPath.redirect.path.prelogin.version : '?';
  t.equal(reported, '12.0.2000.8', 'miprobe reads MI\'s version from the gateway');
  t.equal(nodeReported, '12.0.2000.8', 'and from the node');
  // -n: no reverse lookups; -Pn: no ping. Both hosts in one run (the node's port is not 1433, so nmap tries more probes there).
  const r = await runSandboxed('nmap', ['-n', '-Pn', '-sV', '-p', `${gwPort},${nodePort}`, '-oG', '-', gw, node], { timeoutMs: 200_000 });
  t.equal(r.code, 0, r.stderr);
  const line = (host: string): string => r.stdout.split('\n').find((l) => l.startsWith(`Host: ${host} `) && l.includes('Ports:')) ?? '';
  t.comment(`nmap: ${line(gw).replace(/\s+/g, ' ')}`);
  t.comment(`nmap: ${line(node).replace(/\s+/g, ' ')}`);
  t.match(line(gw), new RegExp(`${gwPort}/open/tcp//ms-sql-s//Microsoft SQL Server 2014 ${nmapVersion(reported).replace(/\./g, '\\.')}`));
  t.match(line(node), new RegExp(`${nodePort}/open/tcp//(ssl\\|)?ms-sql-s//Microsoft SQL Server 2014 ${nmapVersion(nodeReported).replace(/\./g, '\\.')}`));
});

t.test('nmap -sV reads SQL Server 2019 from the simulated 2019 engine', { skip: nmapSkip, timeout: 120_000 }, async (t) => {
  const { info } = await serveScenario(t, 'sql-server-2019');
  const report = await diagnoseServed(info, ['--no-revocation']);
  const reported = report.dataPath?.prelogin?.ok ? report.dataPath.prelogin.version : '?';
  t.equal(reported, '15.0.4298.1');
  const [gw, port] = hostPort(info.gateway);
  const r = await runSandboxed('nmap', ['-n', '-Pn', '-sV', '-p', String(port), '-oG', '-', gw], { timeoutMs: 100_000 });
  t.match(r.stdout, /ms-sql-s\/\/Microsoft SQL Server 2019 15\.00\.4298/, r.stdout);
});

t.test('nmap ssl-cert reads the certificates miprobe reports (TLS inside TDS, and TLS first on the node)', { skip: nmapSkip, timeout: 120_000 }, async (t) => {
  const { info } = await serveScenario(t, 'redirect-healthy');
  const report = await diagnoseServed(info, ['--no-revocation']);
  const gwTls = report.dataPath?.tls;
  const nodeTls = report.dataPath?.redirect?.path?.tls;
  const gwPem = gwTls?.ok ? gwTls.chain[0]?.pem : undefined;
  const nodePem = nodeTls?.ok ? nodeTls.chain[0]?.pem : undefined;
  t.ok(gwPem && nodePem, 'miprobe reported both leaves');
  for (const [endpoint, pem, name] of [[info.gateway, gwPem, 'gateway'], [info.node ?? '', nodePem, 'node']] as const) {
    const [host, port] = hostPort(endpoint);
    const r = await runSandboxed('nmap', ['-n', '-Pn', '-p', String(port), '--script', 'ssl-cert', host], { timeoutMs: 60_000 });
    const sha1 = /SHA-1: *([0-9a-f ]+)/i.exec(r.stdout)?.[1]?.replace(/\s/g, '').toLowerCase();
    t.comment(`ssl-cert on the ${name}: SHA-1 ${sha1 ?? 'none'}`);
    t.equal(sha1, pem ? sha1Hex(pem) : 'no certificate', `nmap and miprobe saw the same ${name} certificate`);
  }
  t.match(nodeTls?.ok ? nodeTls.chain[0]?.subjectAltName : '', /^DNS:\*\.tr1234\.westeurope1-a\.worker\.database\.windows\.net$/, 'the node certificate names only the node');
});

const tsharkSkip = sandboxSkip(['tshark']);

t.test('tshark decodes a capture of a diagnosis with a redirect: no malformed packet, no error', { skip: tsharkSkip, timeout: 120_000 }, async (t) => {
  const { info } = await serveScenario(t, 'redirect-healthy');
  const [gw] = hostPort(info.gateway);
  const [node, nodePort] = hostPort(info.node ?? '');
  const pcap = join(mkdtempSync(join(tmpdir(), 'miprobe-pcap-')), 'diagnosis.pcap');
  const capture = spawn('unshare', ['--mount', 'tshark', '-n', '-i', 'lo', '-f', `host ${gw} or host ${node}`, '-w', pcap]);
  t.teardown(() => { capture.kill('SIGKILL'); });
  let captureErr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tshark did not start capturing: ${captureErr}`)), 30_000);
    capture.stderr.on('data', (c: Buffer) => {
      captureErr += c.toString();
      if (captureErr.includes('Capturing on')) { clearTimeout(timer); resolve(); }
    });
  });
  const report = await diagnoseServed(info, ['--no-revocation']);
  t.equal(report.verdict, 'healthy', 'the diagnosis itself');
  await new Promise((r) => setTimeout(r, 500));
  await new Promise<void>((resolve) => { capture.once('close', () => resolve()); capture.kill('SIGINT'); });
  const decode = ['-n', '-r', pcap, '-d', `tcp.port==${nodePort},tds`];
  const all = await runSandboxed('tshark', decode);
  const tds = await runSandboxed('tshark', [...decode, '-Y', 'tds']);
  const malformed = await runSandboxed('tshark', [...decode, '-Y', '_ws.malformed']);
  const expert = await runSandboxed('tshark', [...decode, '-q', '-z', 'expert']);
  const count = (s: string): number => s.split('\n').filter((l) => l.trim()).length;
  t.comment(`tshark: ${count(all.stdout)} packets, ${count(tds.stdout)} decoded as TDS, ${count(malformed.stdout)} malformed`);
  t.comment(`tshark expert: ${expert.stdout.split('\n').filter((l) => /^(Errors|Warns|Notes|Chats) \(/.test(l)).join(', ')}`);
  t.ok(count(tds.stdout) >= 8, 'PRELOGIN, TLS-in-TDS and their answers on both legs are decoded as TDS');
  t.match(tds.stdout, /pre-login/i);
  t.equal(count(malformed.stdout), 0, `no malformed packet:\n${malformed.stdout}`);
  t.notMatch(expert.stdout, /^Errors \(/m, 'no error-level expert information');
});

/** Logs in with tedious (no serverName option); names resolve through `hosts` in its connector, never through DNS. */
function tediousLogin(info: SimNetworkInfo, hosts: Readonly<Record<string, string>>, encrypt: true | 'strict')
  : Promise<{ error?: string; value?: number; rerouted: boolean }> {
  return new Promise((resolve) => {
    let rerouted = false;
    const connection = new tedious.Connection({
      server: info.fqdn,
      authentication: { type: 'default', options: { userName: info.sqlLogin.user, password: info.sqlLogin.password } },
      options: {
        port: 1433, encrypt, trustServerCertificate: false, connectTimeout: 15_000, requestTimeout: 15_000,
        cryptoCredentialsDetails: { ca: [readFileSync(info.caFile, 'utf8')] },
        connector: (async (target: { host: string; port: number }) => {
          const address = hosts[target.host];
          if (!address) throw new Error(`no test address for ${target.host}`);
          return connect({ host: address, port: target.port });
        }) as unknown as tedious.ConnectionOptions['connector'],
      },
    });
    (connection as NodeJS.EventEmitter).on('rerouting', () => { rerouted = true; });
    connection.on('error', () => undefined);
    connection.connect((err) => {
      if (err) {
        resolve({ error: `${err.message}${(err as { cause?: Error }).cause ? ` (${String((err as { cause?: Error }).cause?.message)})` : ''}`, rerouted });
        return;
      }
      let value: number | undefined;
      const request = new tedious.Request('SELECT 1', (qerr) => {
        connection.close();
        resolve({ ...(qerr ? { error: qerr.message } : {}), ...(value !== undefined ? { value } : {}), rerouted });
      });
      request.on('row', (columns: Array<{ value: unknown }>) => { if (typeof columns[0]?.value === 'number') value = columns[0].value; });
      connection.execSqlBatch(request);
    });
  });
}

t.test('tedious logs in through the gateway and through a redirect whose node certificate names only the node', { timeout: 120_000 }, async (t) => {
  const proxy = await serveScenario(t, 'healthy');
  const direct = await tediousLogin(proxy.info, { [proxy.info.fqdn]: hostPort(proxy.info.gateway)[0] }, true);
  t.same(direct, { value: 1, rerouted: false }, 'proxy: logged in, SELECT 1');

  const redirect = await serveScenario(t, 'redirect-healthy');
  const hosts = { [redirect.info.fqdn]: hostPort(redirect.info.gateway)[0], [redirect.info.nodeName ?? '']: hostPort(redirect.info.node ?? '')[0] };
  t.same(await tediousLogin(redirect.info, hosts, true), { value: 1, rerouted: true }, 'redirect, TDS 7.x: the node certificate is checked against the node name');
});

const tsqlSkip = sandboxSkip(['tsql']);

/** FreeTDS 1.3.16 and 1.3.17 cannot follow a redirect with encryption: against real Azure SQL too (FreeTDS issue #489). */
function freetdsFollowsRedirects(): boolean {
  const version = /freetds v(\d+)\.(\d+)\.(\d+)/.exec(spawnSync('tsql', ['-C'], { encoding: 'utf8' }).stdout ?? '');
  const [major, minor, patch] = (version?.slice(1) ?? []).map(Number);
  return !(major === 1 && minor === 3 && (patch === 16 || patch === 17));
}

t.test('FreeTDS tsql logs in through the gateway; a redirect goes as it goes against real Azure', { skip: tsqlSkip, timeout: 120_000 }, async (t) => {
  for (const scenario of ['healthy', 'redirect-healthy']) {
    const { info } = await serveScenario(t, scenario);
    const dir = mkdtempSync(join(tmpdir(), 'miprobe-ftds-'));
    // The section is named after the instance, so tsql sends the FQDN as LOGIN7 ServerName (the gateway routes by it)
    // and connects to the address given here instead of looking the name up.
    const [gw, port] = hostPort(info.gateway);
    writeFileSync(join(dir, 'freetds.conf'), `[${info.fqdn}]\n\thost = ${gw}\n\tport = ${port}\n\ttds version = 7.4\n\tencryption = require\n`);
    const hosts = info.node && info.nodeName ? { [info.nodeName]: hostPort(info.node)[0] } : {};
    const r = await runSandboxed('tsql', ['-S', info.fqdn, '-U', info.sqlLogin.user, '-P', info.sqlLogin.password], {
      hosts, cwd: dir, env: { FREETDSCONF: join(dir, 'freetds.conf') }, stdin: 'select 1\ngo\nquit\n', timeoutMs: 60_000,
    });
    if (scenario === 'redirect-healthy' && !freetdsFollowsRedirects()) {
      // After the routing ENVCHANGE, 1.3.16/1.3.17 send a TLS record of the old session to the node instead of a new PRELOGIN.
      t.match(r.stderr + r.stdout, /Unexpected EOF from the server|Adaptive Server connection failed/, 'this FreeTDS fails on the redirect, as against real Azure (FreeTDS #489)');
      continue;
    }
    t.equal(r.code, 0, `${scenario}: tsql exit code (${r.stderr.slice(0, 300)})`);
    t.match(r.stdout, /\(1 row affected\)/, `${scenario}: select 1 answered`);
  }
});
