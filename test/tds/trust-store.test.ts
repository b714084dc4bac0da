// Extra trust anchors (--ca-file) are added to Node's default store, not put in its place:
// a chain to a store root and a chain to the extra anchor are both trusted. The store is made
// observable with --use-openssl-ca and SSL_CERT_FILE in a child process (the bundled Mozilla
// roots cannot sign a test certificate). Certificates come from the openssl command.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

const CHILD = `
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { tcpConnect } from ${JSON.stringify(join(ROOT, 'dist/net/tcp.js'))};
import { startTls } from ${JSON.stringify(join(ROOT, 'dist/net/tds/tls.js'))};
import { AddressGuard } from ${JSON.stringify(join(ROOT, 'dist/net/guard.js'))};
const dir = process.argv[2];
const extra = readFileSync(dir + '/extra.pem', 'utf8');
const out = {};
for (const name of ['store', 'extra', 'stranger']) {
  const server = tls.createServer({ key: readFileSync(dir + '/' + name + '-leaf.key'), cert: readFileSync(dir + '/' + name + '-leaf.pem') }, (s) => s.end());
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const tcp = await tcpConnect('127.0.0.1', server.address().port, { guard: AddressGuard.fromList(['127.0.0.0/8']), timeoutMs: 5000, keep: true });
  const session = await startTls(tcp.socket, { servername: 'localhost', ca: [extra], signal: AbortSignal.timeout(5000) });
  out[name] = { trusted: session.info.trusted, error: session.info.trustError ?? null };
  session.socket.destroy();
  server.close();
}
console.log(JSON.stringify(out));
`;

async function openssl(dir: string, args: readonly string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

async function makeCa(dir: string, name: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl(dir, ['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name} test root`]);
  await openssl(dir, ['req', ...ec, '-keyout', `${name}-leaf.key`, '-out', `${name}-leaf.csr`, '-subj', '/CN=localhost']);
  await openssl(dir, ['x509', '-req', '-in', `${name}-leaf.csr`, '-CA', `${name}.pem`, '-CAkey', `${name}.key`, '-CAcreateserial', '-out', `${name}-leaf.pem`, '-days', '1']);
}

const HAS_OPENSSL = await run('openssl', ['version']).then(() => true, () => false);

t.test('--ca-file anchors are added to the default store', { skip: HAS_OPENSSL ? false : 'openssl is not installed (Debian package openssl)' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'miprobe-trust-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const name of ['store', 'extra', 'stranger']) await makeCa(dir, name);
  await writeFile(join(dir, 'child.mjs'), CHILD);
  const { stdout } = await run(process.execPath, ['--use-openssl-ca', join(dir, 'child.mjs'), dir], {
    env: { ...process.env, SSL_CERT_FILE: join(dir, 'store.pem'), SSL_CERT_DIR: join(dir, 'no-such-dir') }, timeout: 30_000,
  });
  const result = JSON.parse(stdout) as Record<string, { trusted: boolean; error: string | null }>;
  t.same(result.store, { trusted: true, error: null }, 'a chain to a root of the default store stays trusted');
  t.same(result.extra, { trusted: true, error: null }, 'a chain to the --ca-file anchor is trusted');
  t.equal(result.stranger?.trusted, false, 'a chain to neither is not trusted');
  t.match(result.stranger?.error ?? '', /UNABLE_TO|SELF_SIGNED/);
});
