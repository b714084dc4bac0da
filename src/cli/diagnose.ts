// `miprobe diagnose <fqdn>`: one diagnosis, printed as text or JSON.
// Exit 0 without critical findings, 1 with one, 2 for bad input.
import { loadConfig, setPath } from '../config/load.js';
import type { Config, ConfigLayer } from '../config/schema.js';
import { diagnose } from '../diagnosis/diagnose.js';
import type { DiagnosisReport } from '../diagnosis/report.js';
import { HostNameError, parseTarget } from '../diagnosis/target.js';
import { renderJson } from '../report/json.js';
import { makeStyle, wantsColour } from '../report/style.js';
import { renderText } from '../report/text.js';
import { EXIT_CRITICAL, EXIT_OK, UsageError, type CliIo, type Command } from './io.js';
import { parseCommandArgs } from './parse.js';
import { probeContext, subnetFromConfig } from './runtime.js';

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
  --json                   print the JSON document (schema: config/report.schema.json)
  --no-color               no colour even on a terminal
  -h, --help               this help

Exit codes: 0 no critical finding, 1 a critical finding, 2 bad input.`;

const OPTIONS = {
  'dns-server': { type: 'string', multiple: true },
  'azure-dns': { type: 'string' },
  subnet: { type: 'string' },
  timeout: { type: 'string' },
  'allow-cidr': { type: 'string', multiple: true },
  config: { type: 'string' },
  json: { type: 'boolean' },
  'no-color': { type: 'boolean' },
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
  return layer;
}

export function printReport(report: DiagnosisReport, json: boolean, noColor: boolean, io: CliIo): void {
  io.stdout.write(json ? renderJson(report) : renderText(report, makeStyle(!noColor && wantsColour(io.stdout, io.env))));
}

export async function runDiagnosis(fqdn: string, config: Config, signal?: AbortSignal): Promise<DiagnosisReport> {
  let target;
  try {
    target = parseTarget(fqdn);
  } catch (err) {
    if (err instanceof HostNameError) throw new UsageError(err.message);
    throw err;
  }
  const ctx = await probeContext(config, signal);
  return diagnose({ target, subnet: subnetFromConfig(config), requiredNames: config.dns.requiredNames }, ctx);
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
  const report = await runDiagnosis(positionals[0] as string, config, io.signal);
  printReport(report, values.json === true, values['no-color'] === true, io);
  return report.verdict === 'failing' ? EXIT_CRITICAL : EXIT_OK;
};
