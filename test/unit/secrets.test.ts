// Login secrets and the CA file: read whole up to their caps (in chunks: a small file costs a small
// buffer), from regular files and pipes; errors name the file and the fix, never the content.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/load.js';
import { readCaFile, readLoginSecrets } from '../../src/config/secrets.js';
import { probeSchema } from '../../src/config/schema.js';

const probeDefaults = () => probeSchema.parse({});

const PEM = (i: number): string => `-----BEGIN CERTIFICATE-----\n${Buffer.alloc(1500, i).toString('base64')}\n-----END CERTIFICATE-----\n`;

t.test('a CA bundle larger than one read chunk comes back whole', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'miprobe-secrets-'));
  const bundle = Array.from({ length: 150 }, (_, i) => PEM(i)).join('');
  await writeFile(join(dir, 'bundle.pem'), bundle);
  t.ok(bundle.length > 256 * 1024, `${bundle.length} bytes`);
  t.equal(await readCaFile(join(dir, 'bundle.pem')), bundle.replace(/\n$/, ''));
});

t.test('bad CA and secret files: one ConfigError naming the file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'miprobe-secrets-'));
  await writeFile(join(dir, 'huge.pem'), Buffer.alloc(4 * 1024 * 1024 + 10, 'A'));
  await writeFile(join(dir, 'text.pem'), 'not a certificate\n');
  await writeFile(join(dir, 'empty'), '');
  await writeFile(join(dir, 'password'), 'S3cret-value\n');
  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['over the cap', () => readCaFile(join(dir, 'huge.pem')), /the CA file .*huge\.pem is larger than 4096 KiB: is it the right file\?/],
    ['no PEM', () => readCaFile(join(dir, 'text.pem')), /holds no PEM certificate/],
    ['a directory', () => readCaFile(dir), /cannot read the CA file .* \(EISDIR\): is it a regular file\?/],
    ['missing', () => readCaFile(join(dir, 'nope.pem')), /cannot read the CA file .*nope\.pem \(ENOENT\): check the path/],
    ['empty password file', () => readLoginSecrets({ ...probeDefaults(), login: 'sql', user: 'u', passwordFile: join(dir, 'empty') }, {}), /the password file .*empty is empty/],
  ];
  for (const [what, run, message] of cases) {
    const err = await run().then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof ConfigError, `${what}: a ConfigError`);
    t.match((err as Error).message, message, what);
    t.notMatch((err as Error).message, /S3cret|AAAA/, `${what}: no content in the message`);
  }
  t.same(await readLoginSecrets({ ...probeDefaults(), login: 'sql', user: 'u', passwordFile: join(dir, 'password') }, {}), { password: 'S3cret-value' },
    'the trailing newline goes');
});

t.test('a secret from a pipe (--password-file <(...), a FIFO)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'miprobe-secrets-'));
  const fifo = join(dir, 'password.fifo');
  execFileSync('mkfifo', [fifo]);
  const writer = spawn('sh', ['-c', 'printf "from-a-pipe\\n" > "$0"', fifo], { stdio: 'ignore' });
  t.teardown(() => { writer.kill(); });
  const secrets = await readLoginSecrets({ ...probeDefaults(), login: 'sql', user: 'u', passwordFile: fifo }, {});
  t.same(secrets, { password: 'from-a-pipe' });
});
