// `miprobe check-network`: checks a managed instance subnet, its NSG, route
// table and virtual network offline, from `az ... show -o json` exports.
//
//   export const checkNetwork: Command   (argv after the command name, io) => exit code
//   exit 0 no critical finding, 1 a critical finding; bad input throws UsageError (exit 2)
//
// A file argument may be `-` for stdin (at most one). Files are read up to
// MAX_INPUT_BYTES each.
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { EXIT_CRITICAL, EXIT_OK, UsageError, type CliIo, type Command } from './io.js';
import { ArmShapeError, parseNsg, parseRouteTable, parseSubnet, parseVnet } from '../network/arm.js';
import { parseCidr, type Cidr } from '../net/address.js';
import { evaluateNetwork } from '../network/check.js';
import type { Architecture } from '../network/requirements.js';
import { renderNetworkText } from '../report/network-text.js';
import { makeStyle, wantsColour } from '../report/style.js';

export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

export const CHECK_NETWORK_USAGE = `Usage: miprobe check-network --subnet-file F [--nsg-file F] [--route-table-file F] [--vnet-file F]
                              [--architecture legacy|current|auto] [--region R --region-pair R2]
                              [--replication] [--failover-partner CIDR ...] [--json] [--no-color]

Checks a managed instance subnet against the network requirements (mandatory NSG
rules, user-defined routes, subnet and VNet settings), offline, from exports:
  az network vnet subnet show -g RG --vnet-name VNET -n SUBNET -o json > subnet.json
  az network nsg show -g RG -n NSG -o json > nsg.json
  az network route-table show -g RG -n ROUTE_TABLE -o json > rt.json
  az network vnet show -g RG -n VNET -o json > vnet.json
A file may be '-' to read it from stdin.

Options:
  --subnet-file F        the subnet export (required)
  --nsg-file F           the NSG attached to the subnet
  --route-table-file F   the route table attached to the subnet
  --vnet-file F          the virtual network (checks its custom DNS servers)
  --architecture A       legacy (before the November 2022 feature wave), current, or auto (default):
                         current unless the exports show the legacy one (the reason is printed)
  --region R             the instance's region (fills REGION in the legacy routes), e.g. westeurope
  --region-pair R2       its paired region (fills REGION_PAIR), e.g. northeurope
  --replication          transactional replication is used: port 445 outbound is mandatory
  --failover-partner CIDR  the instance is in a failover group: its partner's subnet prefix (repeatable);
                         TCP 5022 and 11000-11999 to and from it are mandatory
  --json                 print the report as JSON
  --no-color             no colour even on a terminal
  -h, --help             this help
Exit codes: 0 no critical finding, 1 a critical finding, 2 bad input.
`;

/** The CLI io, optionally with a stdin to read `-` from (tests); process.stdin otherwise. */
export interface CheckNetworkIo extends CliIo {
  readonly stdin?: AsyncIterable<Uint8Array | string>;
}

export const FILE_FLAGS = ['subnet-file', 'nsg-file', 'route-table-file', 'vnet-file'] as const;
export type FileFlag = (typeof FILE_FLAGS)[number];

const EXPORT_COMMAND: Record<FileFlag, string> = {
  'subnet-file': 'az network vnet subnet show -g <rg> --vnet-name <vnet> -n <subnet> -o json',
  'nsg-file': 'az network nsg show -g <rg> -n <nsg> -o json',
  'route-table-file': 'az network route-table show -g <rg> -n <route-table> -o json',
  'vnet-file': 'az network vnet show -g <rg> -n <vnet> -o json',
};

async function readBounded(source: AsyncIterable<Uint8Array | string>, flag: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
    size += buf.length;
    if (size > MAX_INPUT_BYTES) throw new UsageError(`--${flag} -: stdin is larger than ${MAX_INPUT_BYTES} bytes`, 'pass one az export per file');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readInput(flag: FileFlag, path: string, io: CheckNetworkIo): Promise<string> {
  let text: string;
  if (path === '-') text = await readBounded(io.stdin ?? process.stdin, flag);
  else {
    try {
      const st = await stat(path);
      if (!st.isFile()) throw new UsageError(`--${flag} ${path}: not a regular file`, `export it with: ${EXPORT_COMMAND[flag]} > file.json`);
      if (st.size > MAX_INPUT_BYTES) throw new UsageError(`--${flag} ${path}: ${st.size} bytes is larger than the ${MAX_INPUT_BYTES}-byte limit`, 'pass one az export per file');
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (err instanceof UsageError) throw err;
      const e = err as NodeJS.ErrnoException;
      throw new UsageError(`--${flag} ${path}: cannot read it (${e.code ?? e.message})`, `export it with: ${EXPORT_COMMAND[flag]} > file.json`);
    }
  }
  return text;
}

/** The parser of each export file. */
export const EXPORT_PARSERS = { 'subnet-file': parseSubnet, 'nsg-file': parseNsg, 'route-table-file': parseRouteTable, 'vnet-file': parseVnet } as const;
type Parsed<F extends FileFlag> = ReturnType<(typeof EXPORT_PARSERS)[F]>;

/**
 * Reads the text of one export: JSON, then its shape. Throws UsageError (exit 2) naming the flag,
 * the file and the path of the field at fault; nothing else for any text.
 */
export function parseExportText<F extends FileFlag>(flag: F, where: string, text: string): Parsed<F> {
  if (text.trim() === '') throw new UsageError(`--${flag} ${where}: the file is empty`, `export it with: ${EXPORT_COMMAND[flag]}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  } catch (err) {
    // V8 quotes the text around the error, line breaks included: the message must stay one line.
    const why = (err as Error).message.replace(/\s+/g, ' ').slice(0, 200);
    throw new UsageError(`--${flag} ${where}: not valid JSON (${why})`, `export it with: ${EXPORT_COMMAND[flag]} (the -o json output)`);
  }
  try {
    return EXPORT_PARSERS[flag](doc) as Parsed<F>;
  } catch (err) {
    if (err instanceof ArmShapeError) throw new UsageError(`--${flag} ${where}: ${err.message}`, `export it with: ${EXPORT_COMMAND[flag]}`);
    throw err;
  }
}

export const checkNetwork: Command = async (argv, io: CheckNetworkIo) => {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv], strict: true, allowPositionals: false,
      options: {
        'subnet-file': { type: 'string' }, 'nsg-file': { type: 'string' }, 'route-table-file': { type: 'string' },
        'vnet-file': { type: 'string' }, architecture: { type: 'string' }, region: { type: 'string' },
        'region-pair': { type: 'string' }, replication: { type: 'boolean' }, json: { type: 'boolean' },
        'no-color': { type: 'boolean' }, 'failover-partner': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError(`check-network: ${(err as Error).message}`, 'run `miprobe check-network --help` for the options');
  }
  if (values.help) {
    io.stdout.write(CHECK_NETWORK_USAGE);
    return EXIT_OK;
  }
  const files: Partial<Record<FileFlag, string>> = {};
  for (const flag of FILE_FLAGS) {
    const v = values[flag];
    if (typeof v === 'string') {
      if (v === '') throw new UsageError(`check-network: --${flag} needs a file name (or - for stdin)`);
      files[flag] = v;
    }
  }
  if (!files['subnet-file']) {
    throw new UsageError('check-network: --subnet-file is required', `export the subnet with: ${EXPORT_COMMAND['subnet-file']} > subnet.json`);
  }
  const stdinFlags = FILE_FLAGS.filter((f) => files[f] === '-');
  if (stdinFlags.length > 1) throw new UsageError(`check-network: only one file can be read from stdin, got ${stdinFlags.map((f) => `--${f} -`).join(', ')}`);
  const archText = typeof values.architecture === 'string' ? values.architecture : 'auto';
  if (!['legacy', 'current', 'auto'].includes(archText)) {
    throw new UsageError(`check-network: --architecture ${archText} is not one of legacy, current, auto`,
      'legacy = before the November 2022 feature wave, current = after it, auto = decide from the NSG');
  }
  const region = typeof values.region === 'string' ? values.region : undefined;
  const regionPair = typeof values['region-pair'] === 'string' ? values['region-pair'] : undefined;
  for (const [flag, v] of [['region', region], ['region-pair', regionPair]] as const) {
    if (v !== undefined && !/^[a-z][a-z0-9]{1,40}$/i.test(v)) {
      throw new UsageError(`check-network: --${flag} ${v} is not an Azure region name`, 'use the programmatic name, e.g. westeurope');
    }
  }

  const failoverPartner: Cidr[] = [];
  for (const text of (values['failover-partner'] as string[] | undefined) ?? []) {
    const cidr = parseCidr(text);
    if (!cidr || cidr.family !== 4) {
      throw new UsageError(`check-network: --failover-partner ${text} is not an IPv4 address prefix`,
        'give the address prefix of the partner instance\'s subnet, e.g. --failover-partner 10.30.0.0/24');
    }
    failoverPartner.push(cidr);
  }

  const read = async <F extends FileFlag>(flag: F): Promise<Parsed<F> | undefined> => {
    const path = files[flag];
    return path === undefined ? undefined : parseExportText(flag, path === '-' ? 'stdin' : path, await readInput(flag, path, io));
  };
  const subnet = (await read('subnet-file'))!;
  const nsg = await read('nsg-file');
  const routeTable = await read('route-table-file');
  const vnet = await read('vnet-file');

  const report = evaluateNetwork({
    subnet, architecture: archText as Architecture | 'auto', replication: values.replication === true,
    ...(failoverPartner.length ? { failoverPartner } : {}),
    ...(nsg ? { nsg } : {}), ...(routeTable ? { routeTable } : {}), ...(vnet ? { vnet } : {}),
    ...(region ? { region } : {}), ...(regionPair ? { regionPair } : {}),
  });
  io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderNetworkText(report,
    makeStyle(values['no-color'] !== true && wantsColour(io.stdout, io.env))));
  return report.verdict === 'failing' ? EXIT_CRITICAL : EXIT_OK;
};
