// The composition root shared by the commands and the agent: from a validated
// Config to what the checks need (the guard, the resolvers, the probe context,
// the diagnosis input with its secrets and CA file read). Neither the CLI's nor
// the agent's: both build on it.
import { parseCidr, type Cidr } from './net/address.js';
import { readResolvConf } from './net/dns/resolv-conf.js';
import { formatEndpoint, parseEndpoint, type Endpoint } from './net/endpoint.js';
import { AddressGuard } from './net/guard.js';
import type { Config } from './config/schema.js';
import { probeContextOf, type ProbeContext, type ResolverSpec } from './probes/context.js';
import { readCaFile, readLoginSecrets } from './config/secrets.js';
import { ALL_GROUPS } from './checks/groups.js';
import type { DiagnoseInput } from './checks/types.js';
import { HostNameError, parseTarget, type TargetName } from './diagnosis/target.js';
import { parsePortSpec } from './net/port-scan.js';
import { UsageError } from './errors.js';

export function guardFromConfig(config: Config): AddressGuard {
  return config.allowCidrs.length ? AddressGuard.fromList(config.allowCidrs) : AddressGuard.allowAll();
}

/** The schema has validated these strings; parsing cannot fail here. */
const endpointOf = (text: string): Endpoint => parseEndpoint(text, 53) as Endpoint;

export async function resolversFromConfig(config: Config): Promise<ResolverSpec[]> {
  let resolvers: ResolverSpec[];
  if (config.dns.servers.length > 0) {
    resolvers = config.dns.servers.map((s) => ({ endpoint: endpointOf(s), role: 'custom' as const }));
  } else {
    try {
      resolvers = (await readResolvConf()).map((endpoint) => ({ endpoint, role: 'system' as const }));
    } catch (err) {
      throw new UsageError(`cannot use the system resolvers: ${(err as Error).message}`, 'give resolvers with --dns-server ip[:port]');
    }
    if (resolvers.length === 0) throw new UsageError('/etc/resolv.conf lists no nameserver', 'give resolvers with --dns-server ip[:port]');
  }
  if (config.dns.azureDns) resolvers.push({ endpoint: endpointOf(config.dns.azureDns), role: 'azure' });
  return resolvers;
}

/**
 * A run needs one resolver the guard lets it query: with none, nothing can be looked up and every check
 * would be "not reached". Said before anything starts (exit 2), naming where the resolvers come from.
 */
export function requireQueryableResolver(resolvers: readonly ResolverSpec[], guard: AddressGuard): void {
  if (resolvers.some((r) => guard.allows(r.endpoint.host))) return;
  const list = resolvers.map((r) => formatEndpoint(r.endpoint)).join(', ');
  const ranges = guard.describe().join(', ');
  const fromFile = resolvers.every((r) => r.role === 'system');
  const where = fromFile ? `the nameservers of /etc/resolv.conf (${list}) are` : `${list} ${resolvers.length === 1 ? 'is' : 'are'}`;
  throw new UsageError(`${fromFile ? '' : 'dns.servers: '}no resolver can be queried: ${where} outside the allowed ranges (${ranges})`,
    fromFile
      ? 'give the resolvers the application uses with --dns-server (dns.servers), e.g. 168.63.129.16 or the VNet\'s custom DNS servers, or add them to allowCidrs (--allow-cidr, MIPROBE_ALLOW_CIDRS)'
      : 'add the resolvers to allowCidrs (--allow-cidr, MIPROBE_ALLOW_CIDRS), or give resolvers inside the allowed ranges');
}

export function subnetFromConfig(config: Config): Cidr | undefined {
  return config.probe.subnet ? parseCidr(config.probe.subnet) : undefined;
}

export async function probeContext(config: Config, signal?: AbortSignal): Promise<ProbeContext> {
  return probeContextOf({
    guard: guardFromConfig(config),
    timeoutMs: config.timeoutMs,
    signal,
    resolvers: await resolversFromConfig(config),
    dnsRetries: config.dns.retries,
  });
}

/** Parses the host name; a malformed one is a usage error (exit 2). */
export function targetFromArgument(fqdn: string): TargetName {
  try {
    return parseTarget(fqdn);
  } catch (err) {
    if (err instanceof HostNameError) {
      throw new UsageError(err.message, 'give the host name the application connects to, e.g. mi1.0a1b2c3d4e5f.database.windows.net (a connection string\'s "tcp:<name>,1433" works too)');
    }
    throw err;
  }
}

/** Everything a diagnosis of `target` needs from the config, secrets and CA file read here. */
export async function diagnoseInput(target: TargetName, config: Config, env: Readonly<Record<string, string | undefined>>,
  checks?: DiagnoseInput['checks']): Promise<DiagnoseInput> {
  const p = config.probe;
  const [secrets, ca] = await Promise.all([readLoginSecrets(p, env), readCaFile(p.caFile)]);
  const wanted = new Set(checks ?? ALL_GROUPS);
  if (!p.revocation) wanted.delete('revocation');
  if (!p.managementPorts) wanted.delete('management');
  let scanPorts: number[] | undefined;
  try {
    scanPorts = p.scanPorts ? parsePortSpec(p.scanPorts) : undefined;
  } catch (err) {
    throw new UsageError(`--scan-ports: ${(err as Error).message}`);
  }
  return {
    target, subnet: subnetFromConfig(config), requiredNames: config.dns.requiredNames, checks: wanted,
    dataPath: { login: p.login, user: p.user, ...secrets, ca, strict: p.strict, public: p.public },
    revocationUrls: p.revocationUrls,
    httpsUrls: p.httpsUrls,
    ...(scanPorts ? { scanPorts } : {}),
  };
}
