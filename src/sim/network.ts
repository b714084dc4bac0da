// The simulated managed-instance network on loopback: resolvers serving the
// MI zone, and (as capabilities grow) the gateway, PKI and management ports.
// Every address lives in one 127.x.y.0/24 block so tests can run several
// networks side by side; no root is needed.
import type { ConfigLayer } from '../config/schema.js';
import { formatEndpoint, type Endpoint } from '../net/endpoint.js';
import { startDnsServer, type SimDnsServer, type SimRecord } from './dns-server.js';
import { buildMiZone, miZoneNames, REQUIRED_DNS_NAMES, requiredDnsRecords } from './mi-zone.js';
import type { Scenario } from './scenarios.js';

export interface SimNetworkOptions {
  readonly scenario: Scenario;
  /** The first three octets of the block, e.g. "127.100.0". */
  readonly block: string;
  readonly miName?: string;
  readonly zoneId?: string;
  readonly region?: string;
}

export interface SimNetwork {
  readonly fqdn: string;
  readonly subnet: string;
  readonly resolvers: readonly Endpoint[];
  readonly azureResolver?: Endpoint | undefined;
  /** Settings that point a diagnosis at this network (and fence it to loopback). */
  configLayer(): ConfigLayer;
  close(): Promise<void>;
}

/** An address that is public (TEST-NET-3, never routed) for the "public answer" scenario. */
const PUBLIC_DOC_ADDRESS = '203.0.113.10';

export async function startSimNetwork(opts: SimNetworkOptions): Promise<SimNetwork> {
  const { scenario, block } = opts;
  const params = {
    miName: opts.miName ?? 'sim-mi', zoneId: opts.zoneId ?? '0a1b2c3d4e5f', region: opts.region ?? 'westeurope',
    ilbAddress: `${block}.4`, managementAddress: `${block}.200`, vnetLabel: !scenario.dns.noVnetLabel,
  };
  const names = miZoneNames(params);
  const required = requiredDnsRecords(REQUIRED_DNS_NAMES.filter((n) => !scenario.dns.missingRequired?.includes(n)));
  const goodZone: SimRecord[] = [...buildMiZone(params), ...requiredDnsRecords()];

  let customZone: SimRecord[] = [...buildMiZone({ ...params, ilbAddress: scenario.dns.publicAnswer ? PUBLIC_DOC_ADDRESS : params.ilbAddress }), ...required];
  if (scenario.dns.cnameLoop) {
    customZone = [{ name: names.vnetLocal, type: 'CNAME', data: names.target }, { name: names.target, type: 'CNAME', data: `loop.${names.target}` },
      { name: `loop.${names.target}`, type: 'CNAME', data: names.vnetLocal }, ...required];
  }
  const servers: SimDnsServer[] = [];
  const start = async (host: string, records: SimRecord[], behaviour = scenario.dns.behaviour): Promise<SimDnsServer> => {
    const server = await startDnsServer({ host, port: 0, records, behaviours: behaviour ? { [names.vnetLocal]: behaviour } : {} });
    servers.push(server);
    return server;
  };
  try {
    const primary = await start(`${block}.53`, customZone);
    const resolvers = [primary.endpoint];
    if (scenario.dns.disagreeingResolver) {
      // A second resolver with a stale copy: the instance "moved" but this copy did not.
      const stale = [...buildMiZone({ ...params, ilbAddress: '10.99.0.4' }), ...required];
      resolvers.push((await start(`${block}.54`, stale, undefined)).endpoint);
    }
    const azure = scenario.dns.azureResolver ? (await start(`${block}.63`, goodZone, undefined)).endpoint : undefined;
    const subnet = `${block}.0/26`;
    return {
      fqdn: names.vnetLocal, subnet, resolvers, azureResolver: azure,
      configLayer: () => ({
        allowCidrs: ['127.0.0.0/8'],
        dns: { servers: resolvers.map(formatEndpoint), ...(azure ? { azureDns: formatEndpoint(azure) } : {}) },
        probe: { subnet },
      }),
      close: async () => { await Promise.all(servers.map((s) => s.close())); },
    };
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
}
