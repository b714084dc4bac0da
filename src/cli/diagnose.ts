// `miprobe diagnose <fqdn>`: one diagnosis, printed as text or JSON.
// Exit 0 without critical findings, 1 with one, 2 for bad input.
import { loadConfig, setPath } from '../config/load.js';
import type { Config, ConfigLayer } from '../config/schema.js';
import { diagnose } from '../checks/diagnose.js';
import type { DiagnosisReport } from '../diagnosis/report.js';
import { renderJson } from '../report/json.js';
import { makeStyle, wantsColour } from '../report/style.js';
import { renderText } from '../report/text.js';
import { EXIT_CRITICAL, EXIT_OK, UsageError, type CliIo, type Command } from './io.js';
import { parseCommandArgs } from './parse.js';
import type { ProbeLog } from '../probes/context.js';
import { diagnoseInput, probeContext, requireQueryableResolver, targetFromArgument } from '../compose.js';

export const DIAGNOSE_USAGE = `Usage: miprobe diagnose <fqdn> [options]

Diagnoses the path from this host to a managed instance: name resolution
through each resolver, the management endpoint, and what follows.

Options:
  --dns-server ip[:port]   resolver to query (repeatable; default: /etc/resolv.conf)
  --azure-dns ip[:port]    Azure's resolver (168.63.129.16 in Azure), queried too and compared
  --subnet cidr            the managed instance subnet; the name must resolve inside it
  --timeout ms             deadline of each network check (default 5000)
  --allow-cidr cidr        only contact addresses in these ranges (repeatable; env MIPROBE_ALLOW_CIDRS)
  --config file            YAML or JSON config file (env MIPROBE_CONFIG)

Data path:
  --login mode             none (default) | dummy (an invalid user: 18456 proves the path to
                           the engine; rate-limited) | sql | token
  --user name              SQL login for --login sql
  --password-file file     its password (or env MIPROBE_PASSWORD); never printed
  --token-file file        access token for --login token (or env MIPROBE_TOKEN)
  --ca-file pem            extra trusted root certificates
  --strict                 TDS 8.0 strict encryption (TLS first, ALPN tds/8.0)
  --public                 also probe the public endpoint <mi>.public.<zone>...:3342

Revocation and management endpoint:
  --no-revocation          skip the CRL/OCSP checks
  --revocation-url url     platform revocation endpoint to check (repeatable; replaces the default list)
  --https-url url          also check the revocation of this HTTPS endpoint's chain (repeatable)
  --scan-ports list        also check these ports on the management endpoint, e.g. 1-1024,8080
  --json                   print the JSON document (schema: config/report.schema.json)
  --no-color               no colour even on a terminal
  --verbose                on stderr, each check as it ends: ran (with its findings), not reached
                           (and why), or off
  -h, --help               this help

Exit codes: 0 no critical finding, 1 a critical finding, 2 bad input.`;

const OPTIONS = {
  'dns-server': { type: 'string', multiple: true },
  'azure-dns': { type: 'string' },
  subnet: { type: 'string' },
  timeout: { type: 'string' },
  'allow-cidr': { type: 'string', multiple: true },
  config: { type: 'string' },
  login: { type: 'string' },
  user: { type: 'string' },
  'password-file': { type: 'string' },
  'token-file': { type: 'string' },
  'ca-file': { type: 'string' },
  strict: { type: 'boolean' },
  public: { type: 'boolean' },
  'no-revocation': { type: 'boolean' },
  'revocation-url': { type: 'string', multiple: true },
  'https-url': { type: 'string', multiple: true },
  'scan-ports': { type: 'string' },
  json: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

/** Flags as a config layer (highest precedence). */
export function flagLayer(values: Values): ConfigLayer {
  const layer: ConfigLayer = {};
  if (values['dns-server']) setPath(layer, ['dns', 'servers'], values['dns-server']);
  if (values['azure-dns'] !== undefined) setPath(layer, ['dns', 'azureDns'], values['azure-dns']);
  if (values.subnet !== undefined) setPath(layer, ['probe', 'subnet'], values.subnet);
  if (values.timeout !== undefined) {
    if (!/^\d+$/.test(values.timeout)) throw new UsageError(`--timeout expects milliseconds as a whole number, got "${values.timeout}"`);
    layer.timeoutMs = Number(values.timeout);
  }
  if (values['allow-cidr']) layer.allowCidrs = values['allow-cidr'];
  const probe: Array<[string, unknown]> = [
    ['login', values.login], ['user', values.user], ['passwordFile', values['password-file']], ['tokenFile', values['token-file']],
    ['caFile', values['ca-file']], ['strict', values.strict], ['public', values.public],
    ['revocation', values['no-revocation'] ? false : undefined], ['revocationUrls', values['revocation-url']],
    ['httpsUrls', values['https-url']],
    ['scanPorts', values['scan-ports']],
  ];
  for (const [key, value] of probe) if (value !== undefined) setPath(layer, ['probe', key], value);
  return layer;
}

export function printReport(report: DiagnosisReport, json: boolean, noColor: boolean, io: CliIo): void {
  io.stdout.write(json ? renderJson(report) : renderText(report, makeStyle(!noColor && wantsColour(io.stdout, io.env))));
}

/** `env` supplies the secrets (MIPROBE_PASSWORD, MIPROBE_TOKEN) when no file is configured. */
export async function runDiagnosis(fqdn: string, config: Config, env: Readonly<Record<string, string | undefined>>,
  signal?: AbortSignal, log?: ProbeLog): Promise<DiagnosisReport> {
  const target = targetFromArgument(fqdn);
  const [input, ctx] = await Promise.all([diagnoseInput(target, config, env), probeContext(config, signal)]);
  requireQueryableResolver(ctx.resolvers, ctx.guard);
  return diagnose(input, log ? { ...ctx, log } : ctx);
}

/** --verbose: one line per note on stderr, "miprobe: check ran check=gateway seconds=0.012 findings=[]". */
function stderrLog(io: CliIo): ProbeLog {
  return {
    debug: (fields, message) => {
      io.stderr.write(`miprobe: ${message} ${Object.entries(fields).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}\n`);
    },
  };
}

export const diagnoseCommand: Command = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, 'diagnose');
  if (values.help) {
    io.stdout.write(`${DIAGNOSE_USAGE}\n`);
    return EXIT_OK;
  }
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'diagnose needs the instance host name' : `diagnose takes one host name, got ${positionals.length}`,
      'miprobe diagnose <mi>.<zone>.database.windows.net');
  }
  const config = await loadConfig({ file: values.config, env: io.env, flags: flagLayer(values) });
  const report = await runDiagnosis(positionals[0] as string, config, io.env, io.signal, values.verbose ? stderrLog(io) : undefined);
  printReport(report, values.json === true, values['no-color'] === true, io);
  return report.verdict === 'failing' ? EXIT_CRITICAL : EXIT_OK;
};
