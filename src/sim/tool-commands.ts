// What `miprobe demo --serve` tells a user to run against the simulated network:
// a `miprobe diagnose` whose findings are exactly the scenario's, dig, nmap and tsql.
// Every command reaches only loopback addresses and looks no name up in this
// machine's own DNS: the names are shaped like real Azure names, and a query for
// them must never leave the machine. So diagnose is given the simulated resolvers
// (and the revocation URLs on the responders' port), nmap gets -n -Pn, and tsql a
// freetds.conf whose sections connect to addresses: the section's name is the server
// name tsql sends in LOGIN7, which the gateway routes by, as Azure's does.
//
// API:
//   toolCommands(info) -> ToolCommands     the command lines, quoted for a POSIX shell
//   freetdsConf(info) -> string            the freetds.conf the tsql command reads
//   shellQuote(word) -> string
import type { SimNetworkInfo, ToolCommands } from './network-info.js';

/** The fields the commands are made of (the rest of SimNetworkInfo is not needed, so it can be built from them). */
export type CommandInputs = Pick<SimNetworkInfo, 'fqdn' | 'subnet' | 'resolvers' | 'azureResolver' | 'gateway' | 'node' | 'nodeName'
  | 'redirectTo' | 'caFile' | 'freetdsConf' | 'sqlPasswordFile' | 'revocationUrls' | 'login' | 'strict' | 'sqlLogin' | 'suggestedTimeoutMs'>;

const SAFE_WORD = /^[A-Za-z0-9_./:=@%+,-]+$/;

export function shellQuote(word: string): string {
  return SAFE_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function line(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}

function hostAndPort(endpoint: string): [string, string] {
  const at = endpoint.lastIndexOf(':');
  return [endpoint.slice(0, at).replace(/^\[|\]$/g, ''), endpoint.slice(at + 1)];
}

export function toolCommands(info: CommandInputs): ToolCommands {
  const diagnose = [
    'miprobe', 'diagnose', info.fqdn,
    ...info.resolvers.flatMap((r) => ['--dns-server', r]),
    ...(info.azureResolver ? ['--azure-dns', info.azureResolver] : []),
    '--subnet', info.subnet, '--ca-file', info.caFile,
    '--login', info.login, ...(info.login === 'sql' ? ['--user', info.sqlLogin.user, '--password-file', info.sqlPasswordFile] : []),
    ...(info.strict ? ['--strict'] : []),
    '--timeout', String(info.suggestedTimeoutMs),
    ...info.revocationUrls.flatMap((u) => ['--revocation-url', u]),
  ];
  const [dnsHost, dnsPort] = hostAndPort(info.resolvers[0] ?? '');
  const nmap = [info.gateway, ...(info.node ? [info.node] : [])].map((e) => {
    const [host, port] = hostAndPort(e);
    return line(['nmap', '-n', '-Pn', '-sV', '-p', port, host]);
  });
  const tsqlTo = (section: string): string =>
    `FREETDSCONF=${shellQuote(info.freetdsConf)} ${line(['tsql', '-S', section, '-U', info.sqlLogin.user, '-P', info.sqlLogin.password])}`;
  let tsql: string | null;
  let tsqlNote: string;
  if (!info.redirectTo) {
    tsql = tsqlTo(info.fqdn);
    tsqlNote = `tsql connects to the gateway's address and sends ${info.fqdn} in LOGIN7, which the gateway routes by`;
  } else if (info.node && info.nodeName) {
    tsql = tsqlTo(info.nodeName);
    tsqlNote = `this gateway redirects to ${info.redirectTo}: tsql would look that name up in this machine's DNS, so the command `
      + 'connects to the node\'s address directly, as a client does after the redirect';
  } else {
    tsql = null;
    tsqlNote = `no tsql command: this gateway redirects to ${info.redirectTo}, where nothing listens, and tsql would look that name `
      + 'up in this machine\'s DNS';
  }
  return {
    diagnose: `MIPROBE_ALLOW_CIDRS=127.0.0.0/8 ${line(diagnose)}`,
    dig: line(['dig', `@${dnsHost}`, '-p', dnsPort, info.fqdn]),
    nmap, tsql, tsqlNote,
  };
}

function section(name: string, endpoint: string, caFile: string): string {
  const [host, port] = hostAndPort(endpoint);
  return [`[${name}]`, `\thost = ${host}`, `\tport = ${port}`, '\ttds version = 7.4', '\tencryption = require',
    `\tca file = ${caFile}`, '\tcheck certificate hostname = no', ''].join('\n');
}

export function freetdsConf(info: Pick<CommandInputs, 'fqdn' | 'gateway' | 'node' | 'nodeName' | 'redirectTo' | 'caFile'>): string {
  return [
    '# freetds.conf for the simulated managed instance network of `miprobe demo --serve` (removed when it stops).',
    '# Each section connects to an address, so tsql looks no name up; the section\'s name is the server name tsql',
    '# sends in LOGIN7, which the gateway routes by, as Azure\'s does. The chain is checked against the simulated',
    '# root; the host name is not: FreeTDS would check it against the address, which no certificate names.',
    ...(info.redirectTo
      ? [`# This gateway redirects logins to ${info.redirectTo}: tsql would look that name up in this machine's DNS.`,
        '# Use the node\'s section instead, to log in where the redirect leads.']
      : []),
    '',
    section(info.fqdn, info.gateway, info.caFile),
    ...(info.node && info.nodeName ? [section(info.nodeName, info.node, info.caFile)] : []),
  ].join('\n');
}
