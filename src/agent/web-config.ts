// The web configuration file Prometheus exporters share (exporter-toolkit's
// format): TLS, basic auth with bcrypt hashes, extra response headers.
// Relative file paths are taken from the web config file's directory.
//
//   tls_server_config:
//     cert_file: server.crt
//     key_file: server.key
//     client_auth_type: RequireAndVerifyClientCert   # or NoClientCert (default), VerifyClientCertIfGiven,
//                                                    #    RequestClientCert, RequireAnyClientCert
//     client_ca_file: ca.crt
//     min_version: TLS12                             # TLS10 .. TLS13
//   http_server_config:
//     headers: { Strict-Transport-Security: max-age=31536000 }
//   basic_auth_users:
//     prometheus: $2y$10$...                         # bcrypt hash
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import * as z from 'zod';
import { ConfigError, describeIssues, readUserFile } from '../config/load.js';
import { parseYamlText } from '../config/yaml.js';

const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
const CLIENT_AUTH = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
/** Headers a web config may not set (they belong to the protocol or to miprobe). */
const RESERVED_HEADERS = new Set(['content-length', 'content-type', 'transfer-encoding', 'connection', 'www-authenticate', 'date', 'server']);

const webConfigSchema = z.object({
  tls_server_config: z.object({
    cert_file: z.string().min(1),
    key_file: z.string().min(1),
    client_auth_type: z.enum(CLIENT_AUTH).default('NoClientCert'),
    client_ca_file: z.string().min(1).optional(),
    min_version: z.enum(Object.keys(TLS_VERSIONS) as [keyof typeof TLS_VERSIONS]).default('TLS12'),
    max_version: z.enum(Object.keys(TLS_VERSIONS) as [keyof typeof TLS_VERSIONS]).default('TLS13'),
    /** Accepted for compatibility; Node chooses cipher suites and curves. */
    cipher_suites: z.array(z.string()).optional(),
    curve_preferences: z.array(z.string()).optional(),
    prefer_server_cipher_suites: z.boolean().optional(),
  }).strict().optional(),
  http_server_config: z.object({
    http2: z.boolean().optional(),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'expected a header name').refine((h) => !RESERVED_HEADERS.has(h.toLowerCase()), { message: 'this header cannot be set' }),
      z.string().max(4096).regex(/^[\t\x20-\x7e]*$/, 'expected printable ASCII')).default({}),
  }).strict().default({ headers: {} }),
  basic_auth_users: z.record(z.string().min(1).max(128).regex(/^[^:]+$/, 'a user name cannot contain ":"'),
    z.string().regex(/^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/, 'expected a bcrypt hash ($2y$10$...)')).default({}),
}).strict();

export interface WebConfig {
  readonly path?: string;
  readonly tls?: SecureContextOptions & { readonly requestCert: boolean; readonly rejectUnauthorized: boolean; readonly requireCert: boolean };
  readonly headers: Readonly<Record<string, string>>;
  readonly users: ReadonlyMap<string, string>;
}

export const NO_WEB_CONFIG: WebConfig = { headers: {}, users: new Map() };

async function readPem(base: string, file: string, what: string): Promise<Buffer> {
  const path = resolve(base, file);
  try {
    return await readFile(path);
  } catch (err) {
    throw new ConfigError(`web config: cannot read ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** A web config is a few lines; anything larger is not one. */
export const MAX_WEB_CONFIG_BYTES = 1024 * 1024;

/** Parses and validates the text of a web config file; ConfigError naming the line or key otherwise. */
export function parseWebConfigText(text: string, path: string): z.infer<typeof webConfigSchema> {
  const parsed = parseYamlText(text.replace(/^\uFEFF/, ''), path, { what: 'web config file', maxAliasCount: 10 }) ?? {};
  const result = webConfigSchema.safeParse(parsed);
  if (!result.success) throw new ConfigError(`invalid web config file ${path}: ${describeIssues(result.error.issues)}`);
  return result.data;
}

/** Reads and validates a web config file, and loads the certificate files it names. */
export async function loadWebConfig(path: string | undefined): Promise<WebConfig> {
  if (!path) return NO_WEB_CONFIG;
  const text = await readUserFile(path, 'web config file', MAX_WEB_CONFIG_BYTES, 'check the path given with --web-config');
  const cfg = parseWebConfigText(text, path);
  const base = dirname(resolve(path));
  let tls: WebConfig['tls'];
  if (cfg.tls_server_config) {
    const t = cfg.tls_server_config;
    const verify = t.client_auth_type === 'VerifyClientCertIfGiven' || t.client_auth_type === 'RequireAndVerifyClientCert';
    if (verify && !t.client_ca_file) throw new ConfigError(`invalid web config file ${path}: tls_server_config.client_ca_file is required with client_auth_type ${t.client_auth_type}`);
    tls = {
      cert: await readPem(base, t.cert_file, 'cert_file'),
      key: await readPem(base, t.key_file, 'key_file'),
      ...(t.client_ca_file ? { ca: await readPem(base, t.client_ca_file, 'client_ca_file') } : {}),
      minVersion: TLS_VERSIONS[t.min_version],
      maxVersion: TLS_VERSIONS[t.max_version],
      requestCert: t.client_auth_type !== 'NoClientCert',
      // Node can only reject unverified certificates, not demand unverified ones; the handler checks the rest.
      rejectUnauthorized: t.client_auth_type === 'RequireAndVerifyClientCert',
      requireCert: t.client_auth_type === 'RequireAnyClientCert' || t.client_auth_type === 'RequireAndVerifyClientCert',
    };
  }
  return { path, ...(tls ? { tls } : {}), headers: cfg.http_server_config.headers, users: new Map(Object.entries(cfg.basic_auth_users)) };
}

/** A hash compared against when the user is unknown, so both paths cost one bcrypt comparison. */
const DUMMY_HASH = '$2b$10$I79OYHmT6OM.LCreuWh9OuZT/Oju7KEViA794z97IgkkVz51fLqPS';

/** Basic auth against bcrypt hashes; successful checks are cached (bcrypt is slow by design). */
export class BasicAuth {
  private readonly cache = new Map<string, boolean>();
  /** bcrypt comparisons under way; beyond the cap a check fails at once, so guessing cannot starve the event loop. */
  private comparing = 0;
  static readonly MAX_CONCURRENT_COMPARES = 4;

  constructor(private readonly users: ReadonlyMap<string, string>) {}

  get enabled(): boolean {
    return this.users.size > 0;
  }

  async check(header: string | undefined): Promise<boolean> {
    if (!this.enabled) return true;
    const m = /^Basic ([A-Za-z0-9+/=]{1,1024})$/i.exec(header ?? '');
    if (!m?.[1]) return false;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const key = createHash('sha256').update(user).update('\0').update(password).digest('hex');
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const hash = this.users.get(user);
    if (this.comparing >= BasicAuth.MAX_CONCURRENT_COMPARES) return false;
    this.comparing++;
    let ok: boolean;
    try {
      // bcryptjs loads on the first check: an agent without basic auth never needs it.
      const { default: bcrypt } = await import('bcryptjs');
      ok = (await bcrypt.compare(password, hash ?? DUMMY_HASH)) && hash !== undefined;
    } finally {
      this.comparing--;
    }
    // Only successes are cached: failures must stay slow for a guesser.
    if (ok) {
      if (this.cache.size >= 1000) this.cache.clear();
      this.cache.set(key, true);
    }
    return ok;
  }
}
