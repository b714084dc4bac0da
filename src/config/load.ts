// Loading: file (YAML or JSON) < MIPROBE_* environment < flags, validated
// once by the schema. Every error names the source, the key path and what
// was expected, so the CLI can print it as one line (exit 2).
import { open } from 'node:fs/promises';
import type { z } from 'zod';
import { ConfigError } from './errors.js';
import { configSchema, type Config, type ConfigLayer } from './schema.js';
import { parseYamlText } from './yaml.js';

export { ConfigError };

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    const name = String(key);
    const shown = /^[A-Za-z0-9_-]{1,60}$/.test(name) ? name : JSON.stringify(name.slice(0, 60));
    return acc ? `${acc}.${shown}` : shown;
  }, '');
}

export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => {
    const where = formatPath(issue.path);
    // Keys come from the file (a YAML complex key is a whole mapping): quoted, cut, on one line.
    const message = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((k) => JSON.stringify(k.slice(0, 60))).join(', ')}`
      : issue.message.replace(/\s+/g, ' ');
    return where ? `${where}: ${message}` : message;
  }).join('; ');
}

/** Largest config file read (an agent config listing many instances stays far below). */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** Reads a file a user named, up to `maxBytes`; ConfigError naming it when it cannot be read or is too large. */
export async function readUserFile(path: string, what: string, maxBytes: number, hint: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read ${what} ${path} (${code ?? 'error'}): ${hint}`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new ConfigError(`cannot read ${what} ${path} (not a regular file): ${hint}`);
    if (st.size > maxBytes) throw new ConfigError(`${what} ${path} is ${st.size} bytes, larger than the ${maxBytes}-byte limit: is it the right file?`);
    return (await handle.readFile()).toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot read ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}): ${hint}`);
  } finally {
    await handle.close();
  }
}

/** Parses the text of a config file (YAML, or JSON, which YAML reads too); ConfigError naming the line or key otherwise. */
export function parseConfigText(text: string, path: string): ConfigLayer {
  const parsed = parseYamlText(text.replace(/^\uFEFF/, ''), path, { what: 'config file', maxAliasCount: 100 });
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a mapping of keys (e.g. "timeoutMs: 5000"), not a ${Array.isArray(parsed) ? 'list' : typeof parsed}`);
  }
  return parsed as ConfigLayer;
}

/** Reads and parses a config file; YAML is a superset of JSON, so one parser serves both. */
export async function readConfigFile(path: string): Promise<ConfigLayer> {
  const text = await readUserFile(path, 'config file', MAX_CONFIG_BYTES, 'check the path given with --config or MIPROBE_CONFIG');
  return parseConfigText(text, path);
}

/** Validates merged layers; ConfigError naming the key path and what was expected. */
export function validateConfig(merged: ConfigLayer, source: string): Config {
  const result = configSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(`invalid configuration${source}: ${describeIssues(result.error.issues)}`);
  return result.data;
}

const list = (value: string): string[] => value.split(/[\s,]+/).filter(Boolean);
const bool = (value: string): boolean | string => (/^(1|true|yes|on)$/i.test(value) ? true : /^(0|false|no|off)$/i.test(value) ? false : value);
const int = (value: string): number | string => (/^\d+$/.test(value) ? Number(value) : value);

/** The MIPROBE_* variables and the config key each sets. Secrets (MIPROBE_PASSWORD, MIPROBE_TOKEN) are read by the probes, never stored here. */
export const ENV_KEYS: ReadonlyArray<readonly [string, readonly string[], (v: string) => unknown]> = [
  ['MIPROBE_TIMEOUT_MS', ['timeoutMs'], int],
  ['MIPROBE_ALLOW_CIDRS', ['allowCidrs'], list],
  ['MIPROBE_DNS_SERVERS', ['dns', 'servers'], list],
  ['MIPROBE_AZURE_DNS', ['dns', 'azureDns'], String],
  ['MIPROBE_SUBNET', ['probe', 'subnet'], String],
  ['MIPROBE_LOGIN', ['probe', 'login'], String],
  ['MIPROBE_USER', ['probe', 'user'], String],
  ['MIPROBE_PASSWORD_FILE', ['probe', 'passwordFile'], String],
  ['MIPROBE_TOKEN_FILE', ['probe', 'tokenFile'], String],
  ['MIPROBE_CA_FILE', ['probe', 'caFile'], String],
  ['MIPROBE_STRICT', ['probe', 'strict'], bool],
  ['MIPROBE_PUBLIC', ['probe', 'public'], bool],
  ['MIPROBE_AGENT_LISTEN', ['agent', 'listen'], String],
  ['MIPROBE_AGENT_WEB_CONFIG', ['agent', 'webConfigFile'], String],
  ['MIPROBE_AGENT_SHARD', ['agent', 'shard'], String],
  ['MIPROBE_AGENT_CONCURRENCY', ['agent', 'concurrency'], int],
  ['MIPROBE_LOG_LEVEL', ['agent', 'logLevel'], String],
];

export function setPath(target: ConfigLayer, path: readonly string[], value: unknown): void {
  let node = target;
  path.slice(0, -1).forEach((key) => {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as ConfigLayer;
  });
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

export function envLayer(env: Readonly<Record<string, string | undefined>>): ConfigLayer {
  const layer: ConfigLayer = {};
  for (const [name, path, convert] of ENV_KEYS) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(layer, path, convert(value));
  }
  return layer;
}

function isMapping(value: unknown): value is ConfigLayer {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge of mappings; lists and scalars of later layers replace earlier ones. */
export function mergeLayers(...layers: readonly ConfigLayer[]): ConfigLayer {
  const out: ConfigLayer = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const prev = out[key];
      out[key] = isMapping(prev) && isMapping(value) ? mergeLayers(prev, value) : value;
    }
  }
  return out;
}

export interface LoadOptions {
  readonly file?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly flags: ConfigLayer;
}

export async function loadConfig(opts: LoadOptions): Promise<Config> {
  const path = opts.file ?? opts.env.MIPROBE_CONFIG;
  const fileLayer = path ? await readConfigFile(path) : {};
  const merged = mergeLayers(fileLayer, envLayer(opts.env), opts.flags);
  return validateConfig(merged, path ? ` (from ${path}, MIPROBE_* variables or flags)` : ' (from MIPROBE_* variables or flags)');
}
