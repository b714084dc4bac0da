// Fuzz targets for the files a user hands miprobe: az exports (check-network),
// the config file (diagnose, agent) and the agent's web config. Seeds are the
// real-shaped fixtures (test/fixtures/network/) and the shipped example configs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FILE_FLAGS, MAX_INPUT_BYTES, parseExportText, type FileFlag } from '../../../src/cli/check-network.js';
import { UsageError } from '../../../src/cli/io.js';
import { evaluateNetwork } from '../../../src/network/check.js';
import { renderNetworkText } from '../../../src/report/network-text.js';
import { makeStyle } from '../../../src/report/style.js';
import type { Subnet } from '../../../src/network/arm.js';
import { ConfigError } from '../../../src/config/errors.js';
import { MAX_CONFIG_BYTES, mergeLayers, parseConfigText, validateConfig } from '../../../src/config/load.js';
import { MAX_WEB_CONFIG_BYTES, parseWebConfigText } from '../../../src/agent/web-config.js';
import type { FuzzTarget, Verdict } from '../harness.js';
import { jsonTextMutations, textMutations, type Json } from '../mutate.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'network');

const PREFIX: Record<FileFlag, string> = { 'subnet-file': 'subnet', 'nsg-file': 'nsg', 'route-table-file': 'rt', 'vnet-file': 'vnet' };

function fixtures(flag: FileFlag): string[] {
  return readdirSync(FIXTURES).filter((f) => f.startsWith(`${PREFIX[flag]}-`) || f === `${PREFIX[flag]}.json`).sort()
    .map((f) => readFileSync(join(FIXTURES, f), 'utf8'));
}

const JSON_TOKENS = ['{', '}', '[', ']', ',', ':', '"', 'null', 'true', '1e999', '-0', '"\\u0000"', '\\', '\uFEFF', '[[[[[[[[', '{"a":'];

interface ExportInput {
  readonly flag: FileFlag;
  readonly text: string;
}

export const azExports: FuzzTarget<ExportInput> = {
  name: 'files: az exports (check-network)',
  contract: 'parseExportText(flag, file, text) returns the model (which evaluateNetwork judges) or throws UsageError naming the field',
  sizeCap: MAX_INPUT_BYTES,
  async prepare() {
    const base = JSON.parse(readFileSync(join(FIXTURES, 'subnet.json'), 'utf8')) as unknown;
    const subnet = parseExportText('subnet-file', 'subnet.json', JSON.stringify(base));
    const perFlag = FILE_FLAGS.map((flag) => {
      const texts = fixtures(flag);
      const docs = texts.map((t) => JSON.parse(t) as Json);
      return fc.oneof(
        { weight: 6, arbitrary: jsonTextMutations(docs) },
        { weight: 2, arbitrary: textMutations(texts, JSON_TOKENS) },
        { weight: 1, arbitrary: fc.constantFrom(...texts) },
      ).map((text) => ({ flag, text }));
    });
    return {
      input: fc.oneof(...perFlag), size: (x) => x.text.length,
      show: (x) => `--${x.flag} ${x.text.length} chars: ${JSON.stringify(x.text.slice(0, 160))}`,
      run(x): Verdict {
        let model: unknown;
        try {
          model = parseExportText(x.flag, 'fuzz.json', x.text);
        } catch (err) {
          if (err instanceof UsageError && !err.message.includes('\n')) return 'typed';
          throw err;
        }
        const report = evaluateNetwork({
          subnet: x.flag === 'subnet-file' ? model as Subnet : subnet, architecture: 'auto', replication: false,
          ...(x.flag === 'nsg-file' ? { nsg: model as never } : {}), ...(x.flag === 'route-table-file' ? { routeTable: model as never } : {}),
          ...(x.flag === 'vnet-file' ? { vnet: model as never } : {}),
        });
        renderNetworkText(report, makeStyle(false));
        JSON.stringify(report);
        return 'ok';
      },
    };
  },
};

const YAML_TOKENS = ['&a ', '*a', '*a:', '<<: *a', ': ', '- ', '? ', '[', ']', '{', '}', '"', "'", '!!binary ', '!foo ', '%YAML 1.1\n', '---\n', '...\n',
  '\t', '|\n', '>-\n', '#', ',', 'null', '~', '0x10', '1e999', '.inf', 'yes', '\uFEFF', '\r', '\u2028', 'timeoutMs: ', '  ', '@', '`'];

/** A YAML "billion laughs": `levels` anchors, each `fan` aliases of the previous. */
function laughs(levels: number, fan: number): string {
  const lines = ['l0: &l0 "lol"'];
  for (let i = 1; i <= levels; i++) lines.push(`l${i}: &l${i} [${Array.from({ length: fan }, () => `*l${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

/** Hostile shapes the mutations rarely reach: alias bombs, deep flow and block nesting, long lines. */
const hostileYaml: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 })).map(([l, f]) => laughs(l, f)),
  fc.integer({ min: 10, max: 20_000 }).map((n) => `timeoutMs: ${'['.repeat(n)}${']'.repeat(n)}\n`),
  fc.integer({ min: 10, max: 20_000 }).map((n) => `${'- '.repeat(n)}x\n`),
  fc.integer({ min: 10, max: 400 }).map((n) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')),
  fc.integer({ min: 10, max: 20_000 }).map((n) => `dns: ${'{"a":'.repeat(n)}1${'}'.repeat(n)}\n`),
  fc.integer({ min: 1, max: 200_000 }).map((n) => `probe:\n  user: ${'x'.repeat(n)}\n`),
);

const CONFIG_SEEDS = [
  readFileSync(join(ROOT, 'config', 'agent.example.yaml'), 'utf8'),
  readFileSync(join(ROOT, 'config', 'agent.default.yaml'), 'utf8'),
  JSON.stringify({ timeoutMs: 3000, allowCidrs: ['127.0.0.0/8'], dns: { servers: ['127.53.0.1:5353'], azureDns: '127.53.0.2' },
    probe: { login: 'dummy', subnet: '10.0.0.0/24', revocationUrls: ['http://127.0.0.1:8080/crl'] } }, null, 2),
];

/** Process warnings emitted while a parser ran (a raw YAMLWarning would reach the user's stderr). */
const warnings: string[] = [];
let listening = false;
function watchWarnings(): void {
  if (listening) return;
  listening = true;
  process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));
}
async function noWarning(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve)); // emitWarning reports on the next tick
  const w = warnings.splice(0);
  if (w.length > 0) throw new Error(`raw process warning: ${w[0]}`);
}

/** 'ok' when the file parses, 'typed' for a one-line ConfigError; anything else (or a raw warning) is a failure. */
async function configVerdict(parse: () => unknown): Promise<Verdict> {
  watchWarnings();
  let verdict: Verdict;
  try {
    parse();
    verdict = 'ok';
  } catch (err) {
    if (!(err instanceof ConfigError) || err.message.includes('\n')) throw err;
    verdict = 'typed';
  }
  await noWarning();
  return verdict;
}

export const configFile: FuzzTarget<string> = {
  name: 'files: config file',
  contract: 'parseConfigText(text) then validateConfig() return a Config or throw ConfigError (one line)',
  sizeCap: MAX_CONFIG_BYTES,
  async prepare() {
    return {
      input: fc.oneof({ weight: 6, arbitrary: textMutations(CONFIG_SEEDS, YAML_TOKENS) }, { weight: 1, arbitrary: hostileYaml },
        { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }) }),
      size: (t) => t.length,
      run: (text) => configVerdict(() => validateConfig(mergeLayers(parseConfigText(text, 'fuzz.yaml')), ' (from fuzz.yaml)')),
    };
  },
};

const WEB_SEEDS = [
  'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  min_version: TLS12\n',
  'basic_auth_users:\n  prometheus: $2y$10$I79OYHmT6OM.LCreuWh9OuZT/Oju7KEViA794z97IgkkVz51fLqPS\nhttp_server_config:\n  headers:\n    Strict-Transport-Security: max-age=31536000\n',
];

export const webConfigFile: FuzzTarget<string> = {
  name: 'files: agent web config',
  contract: 'parseWebConfigText(text) returns the web config or throws ConfigError (one line)',
  sizeCap: MAX_WEB_CONFIG_BYTES,
  async prepare() {
    return {
      input: fc.oneof({ weight: 6, arbitrary: textMutations(WEB_SEEDS, YAML_TOKENS) }, { weight: 1, arbitrary: hostileYaml }),
      size: (t) => t.length,
      run: (text) => configVerdict(() => parseWebConfigText(text, 'web.yml')),
    };
  },
};

export const fileTargets = [azExports, configFile, webConfigFile] as unknown as readonly FuzzTarget<never>[];
