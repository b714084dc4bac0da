// Secrets for the login probe: from MIPROBE_PASSWORD / MIPROBE_TOKEN or from
// files, never from flags (they would show in `ps` and shell history) and
// never printed, logged or exported. Errors name the file, not its content.
import { open } from 'node:fs/promises';
import type { ProbeConfig } from './schema.js';
import { ConfigError } from './load.js';

export interface LoginSecrets {
  readonly password?: string | undefined;
  readonly token?: string | undefined;
}

const MAX_SECRET_BYTES = 64 * 1024;
/** A CA bundle may hold a few hundred roots. */
const MAX_CA_BYTES = 4 * 1024 * 1024;
const READ_CHUNK_BYTES = 64 * 1024;

async function readSecretFile(path: string, what: string, maxBytes = MAX_SECRET_BYTES): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new ConfigError(`cannot read the ${what} file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}): check the path`);
  }
  try {
    // In chunks up to the cap, so a small file costs a small buffer (a pipe or /dev/stdin has no size to ask).
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for (;;) {
        const chunk = Buffer.alloc(Math.min(READ_CHUNK_BYTES, maxBytes + 1 - total));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
        if (bytesRead === 0) break;
        chunks.push(chunk.subarray(0, bytesRead));
        total += bytesRead;
        if (total > maxBytes) throw new ConfigError(`the ${what} file ${path} is larger than ${maxBytes / 1024} KiB: is it the right file?`);
      }
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`cannot read the ${what} file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}): is it a regular file?`);
    }
    const value = Buffer.concat(chunks, total).toString('utf8').replace(/\r?\n$/, '');
    if (value === '') throw new ConfigError(`the ${what} file ${path} is empty`);
    return value;
  } finally {
    await handle.close();
  }
}

export async function readLoginSecrets(probe: ProbeConfig, env: Readonly<Record<string, string | undefined>>): Promise<LoginSecrets> {
  if (probe.login === 'sql') {
    if (!probe.user) throw new ConfigError('--login sql needs --user (or probe.user / MIPROBE_USER)');
    const password = probe.passwordFile ? await readSecretFile(probe.passwordFile, 'password') : env.MIPROBE_PASSWORD;
    if (!password) throw new ConfigError('--login sql needs a password: --password-file <file> or MIPROBE_PASSWORD');
    return { password };
  }
  if (probe.login === 'token') {
    const token = probe.tokenFile ? await readSecretFile(probe.tokenFile, 'token') : env.MIPROBE_TOKEN;
    if (!token) throw new ConfigError('--login token needs an access token: --token-file <file> or MIPROBE_TOKEN');
    return { token };
  }
  return {};
}

/** Reads the extra trusted roots (PEM) of --ca-file. */
export async function readCaFile(path: string | undefined): Promise<string | undefined> {
  if (!path) return undefined;
  const pem = await readSecretFile(path, 'CA', MAX_CA_BYTES);
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`the CA file ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return pem;
}
