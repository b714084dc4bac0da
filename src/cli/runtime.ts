// From a validated Config to what probes need: the guard, the resolvers, the
// probe context. Shared by diagnose, demo and the agent.
import { parseCidr, type Cidr } from '../net/address.js';
import { readResolvConf } from '../net/dns/resolv-conf.js';
import { parseEndpoint, type Endpoint } from '../net/endpoint.js';
import { AddressGuard } from '../net/guard.js';
import type { Config } from '../config/schema.js';
import type { ProbeContext, ResolverSpec } from '../probes/context.js';
import { UsageError } from './io.js';

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

export function subnetFromConfig(config: Config): Cidr | undefined {
  return config.probe.subnet ? parseCidr(config.probe.subnet) : undefined;
}

export async function probeContext(config: Config, signal?: AbortSignal): Promise<ProbeContext> {
  return {
    guard: guardFromConfig(config),
    timeoutMs: config.timeoutMs,
    signal,
    resolvers: await resolversFromConfig(config),
    dnsRetries: config.dns.retries,
  };
}
