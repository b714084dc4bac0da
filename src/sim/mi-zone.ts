// DNS data of a simulated Managed Instance, shaped like the real names
// (https://learn.microsoft.com/azure/azure-sql/managed-instance/connectivity-architecture-overview#virtual-cluster-connectivity-architecture).
//
// API (stable):
//   buildMiZone(p: MiZoneParams): SimRecord[]
//   REQUIRED_DNS_NAMES: readonly string[]      names a custom DNS server must resolve
//   requiredDnsRecords(names?, addressFor?): SimRecord[]
//   miZoneNames(p): { vnetLocal, target, management?, public?, publicTarget? }
//
// Names have the real shapes (the CNAME chain of "Determine the management endpoint IP address",
// MI_MANAGEMENT_ENDPOINT_IP in src/requirements/sources.ts): the cluster label
// is tr<N> (e.g. tr18202) and the region label the numbered one (eastus1-a,
// westeurope1-a), not the ARM region name.
// Legacy shape (vnetLabel true, the default):
//   <mi>.<zone>.<suffix>                        CNAME tr<N>.<region>1-a.worker.vnet.<suffix>
//   tr<N>.<region>1-a.worker.vnet.<suffix>       A    ilbAddress
//   tr<N>.<region>1-a.worker.<suffix>            A    managementAddress   (".vnet" removed: the
//                                                     legacy management endpoint, when given)
// Redirect nodes: <12 hex>.tr<N>.<region>1-a.worker.<suffix> (nodeName()).
// Newer architecture (vnetLabel false): the CNAME target has no ".vnet" label and resolves to
// the ILB; there is no separate management name (the November 2022 feature wave removed it),
// so managementAddress is ignored.
// Public endpoint, when publicAddress is given:
//   <mi>.public.<zone>.<suffix>        CNAME tr<N>.<region>1-a.worker.public.<suffix>
//   tr<N>.<region>1-a.worker.public.<suffix> A  publicAddress
import { REQUIRED_DNS_NAMES as PLATFORM_DNS_NAMES } from '../requirements/platform.js';
import type { SimRecord } from './dns-server.js';

export interface MiZoneParams {
  readonly miName: string;
  readonly zoneId: string;
  /** The ARM region, e.g. westeurope; names use its numbered label westeurope1-a. */
  readonly region: string;
  /** The cluster number in tr<N>; default 1234. */
  readonly ring?: number;
  readonly ilbAddress: string;
  readonly managementAddress?: string;
  /** Default 'database.windows.net'. */
  readonly dnsSuffix?: string;
  /** Default true (the legacy chain through ".vnet"). */
  readonly vnetLabel?: boolean;
  readonly publicAddress?: string;
  readonly ttl?: number;
  readonly extra?: readonly SimRecord[];
}

export interface MiZoneNames {
  readonly vnetLocal: string;
  readonly target: string;
  readonly management?: string;
  readonly public?: string;
  readonly publicTarget?: string;
  /** The domain of the cluster's nodes: tr<N>.<region>1-a.worker.<suffix> (redirect nodes are <id>.<this>). */
  readonly nodeDomain: string;
}

/** A redirect node's name: 12 hex characters under the cluster's node domain. */
export function nodeName(names: MiZoneNames, id = 'a1b2c3d4e5f6'): string {
  return `${id}.${names.nodeDomain}`;
}

export function miZoneNames(p: MiZoneParams): MiZoneNames {
  const suffix = (p.dnsSuffix ?? 'database.windows.net').replace(/^\.|\.$/g, '').toLowerCase();
  const mi = p.miName.toLowerCase();
  const zone = p.zoneId.toLowerCase();
  const region = p.region.toLowerCase();
  const worker = `tr${p.ring ?? 1234}.${region}1-a.worker`;
  const vnet = p.vnetLabel !== false;
  return {
    nodeDomain: `${worker}.${suffix}`,
    vnetLocal: `${mi}.${zone}.${suffix}`,
    target: vnet ? `${worker}.vnet.${suffix}` : `${worker}.${suffix}`,
    ...(vnet && p.managementAddress ? { management: `${worker}.${suffix}` } : {}),
    ...(p.publicAddress ? { public: `${mi}.public.${zone}.${suffix}`, publicTarget: `${worker}.public.${suffix}` } : {}),
  };
}

export function buildMiZone(p: MiZoneParams): SimRecord[] {
  const n = miZoneNames(p);
  const ttl = p.ttl ?? 60;
  const records: SimRecord[] = [
    { name: n.vnetLocal, type: 'CNAME', data: n.target, ttl },
    { name: n.target, type: 'A', data: p.ilbAddress, ttl },
  ];
  if (n.management && p.managementAddress) records.push({ name: n.management, type: 'A', data: p.managementAddress, ttl });
  if (n.public && n.publicTarget && p.publicAddress) {
    records.push({ name: n.public, type: 'CNAME', data: n.publicTarget, ttl });
    records.push({ name: n.publicTarget, type: 'A', data: p.publicAddress, ttl });
  }
  return [...records, ...(p.extra ?? [])];
}

/**
 * Names the simulated resolvers serve as a healthy custom DNS would: the list diagnose requires
 * (src/requirements/platform.ts), plus the CA-issuers host of the Azure CAs.
 */
export const REQUIRED_DNS_NAMES: readonly string[] = [...PLATFORM_DNS_NAMES, 'cacerts.digicert.com'];

/**
 * A records for `names`; by default name i points at the documentation address 192.0.2.(i+1)
 * (RFC 5737: never routed). Pass `addressFor` to point them at loopback responders instead.
 */
export function documentationAddress(_name: string, index: number): string {
  return `192.0.2.${(index % 254) + 1}`;
}

export function requiredDnsRecords(names: readonly string[] = REQUIRED_DNS_NAMES,
  addressFor: (name: string, index: number) => string = documentationAddress): SimRecord[] {
  return names.map((name, i) => ({ name, type: 'A', data: addressFor(name, i), ttl: 300 }));
}
