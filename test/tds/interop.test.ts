// Two independent clients accept the simulated gateway: FreeTDS tsql (TLS 1.2,
// TDS 7.4, encryption required) and tedious (TDS 7.4 with TLS in TDS, and TDS 8
// strict). Both log in and run `select 1`. Gateway on 127.14.4.x.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tedious from 'tedious';
import { startTdsGateway } from '../../src/sim/tds-gateway.js';
import { makeTdsCerts } from '../helpers/tds-certs.js';
import { FQDN } from '../helpers/tds.js';

const certs = await makeTdsCerts([FQDN]);
const tsqlMissing = spawnSync('sh', ['-c', 'command -v tsql'], { encoding: 'utf8' }).status !== 0;

t.test('FreeTDS tsql logs in over TLS and runs select 1', { skip: tsqlMissing ? 'tsql (Debian freetds-bin) is not installed' : false }, async (t) => {
  const gw = await startTdsGateway({ host: '127.14.4.1', port: 1433, ...certs.valid, logins: { user: 'pass' } });
  t.teardown(() => gw.close());
  const dir = mkdtempSync(join(tmpdir(), 'miprobe-ftds-'));
  const conf = join(dir, 'freetds.conf');
  writeFileSync(conf, '[global]\n\ttds version = 7.4\n\tencryption = require\n');
  const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('tsql', ['-H', '127.14.4.1', '-p', '1433', '-U', 'user', '-P', 'pass'], { env: { ...process.env, FREETDSCONF: conf }, cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code) => { clearTimeout(kill); resolve({ code, stdout, stderr }); });
    child.stdin.end('select 1\ngo\nquit\n');
  });
  t.equal(out.code, 0, `tsql exit code (stderr: ${out.stderr.slice(0, 400)})`);
  t.match(out.stdout, /\n1\r?\n/, 'the row 1 is printed');
  t.match(out.stdout, /\(1 row affected\)/);
  t.equal(gw.stats.tlsHandshakes, 1, 'TLS inside TDS was negotiated');
  t.equal(gw.stats.logins, 1);
  t.equal(gw.stats.loginFailures, 0);
  t.equal(gw.stats.batches >= 1, true);
});

t.test('FreeTDS tsql with a wrong password gets 18456', { skip: tsqlMissing ? 'tsql (Debian freetds-bin) is not installed' : false }, async (t) => {
  const gw = await startTdsGateway({ host: '127.14.4.2', port: 1433, ...certs.valid, logins: { user: 'pass' } });
  t.teardown(() => gw.close());
  const dir = mkdtempSync(join(tmpdir(), 'miprobe-ftds-'));
  writeFileSync(join(dir, 'freetds.conf'), '[global]\n\ttds version = 7.4\n\tencryption = require\n');
  // async spawn: the gateway runs in this process, spawnSync would block it
  const r = await new Promise<string>((resolve) => {
    const child = spawn('tsql', ['-H', '127.14.4.2', '-p', '1433', '-U', 'user', '-P', 'wrong'], { env: { ...process.env, FREETDSCONF: join(dir, 'freetds.conf') }, cwd: dir });
    let text = '';
    child.stdout.on('data', (c: Buffer) => { text += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { text += c.toString(); });
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', () => { clearTimeout(kill); resolve(text); });
    child.stdin.end('quit\n');
  });
  t.match(r, /18456|Login failed/);
  t.equal(gw.stats.loginFailures, 1);
});

for (const encrypt of [true, 'strict'] as const) {
  t.test(`tedious (encrypt: ${String(encrypt)}) logs in and runs select 1`, async (t) => {
    const host = encrypt === true ? '127.14.4.3' : '127.14.4.4';
    const gw = await startTdsGateway({ host, port: 1433, ...certs.valid, instanceName: FQDN, logins: { miprobe: 'secret' } });
    t.teardown(() => gw.close());
    const conn = new tedious.Connection({
      server: host,
      authentication: { type: 'default', options: { userName: 'miprobe', password: 'secret' } },
      options: { port: 1433, encrypt, serverName: FQDN, cryptoCredentialsDetails: { ca: certs.caPem }, connectTimeout: 5000, database: 'appdb' },
    });
    let secure = false;
    let database = '';
    conn.on('secure', () => { secure = true; });
    conn.on('databaseChange', (d: string) => { database = d; });
    const rows: unknown[] = [];
    const err = await new Promise<Error | undefined>((resolve) => conn.connect((e) => resolve(e ?? undefined)));
    t.equal(err, undefined, 'connected');
    const rowCount = await new Promise<number>((resolve, reject) => {
      const req = new tedious.Request('select 1', (e, n) => (e ? reject(e) : resolve(n ?? -1)));
      req.on('row', (cols: Array<{ value: unknown }>) => rows.push(cols[0]?.value));
      conn.execSqlBatch(req);
    });
    conn.close();
    t.same(rows, [1]);
    t.equal(rowCount, 1);
    t.equal(database, 'appdb');
    if (encrypt === true) {
      t.equal(secure, true, 'TLS in TDS 7.x');
      t.equal(gw.stats.tlsHandshakes, 1);
    } else t.equal(gw.stats.strictHandshakes, 1, 'TDS 8 strict');
    t.same(gw.stats.names, [FQDN], 'the gateway saw the FQDN through SNI');
  });
}

t.test('tedious token login (FEDAUTH security token) is acknowledged', async (t) => {
  const gw = await startTdsGateway({ host: '127.14.4.5', port: 1433, ...certs.valid, instanceName: FQDN, tokens: ['eyJ.test.token'] });
  t.teardown(() => gw.close());
  const conn = new tedious.Connection({
    server: '127.14.4.5',
    authentication: { type: 'azure-active-directory-access-token', options: { token: 'eyJ.test.token' } },
    options: { port: 1433, encrypt: true, serverName: FQDN, cryptoCredentialsDetails: { ca: certs.caPem }, connectTimeout: 5000 },
  });
  const err = await new Promise<Error | undefined>((resolve) => conn.connect((e) => resolve(e ?? undefined)));
  conn.close();
  t.equal(err, undefined, err?.message ?? 'logged in with the token');
});
