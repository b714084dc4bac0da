// The demo scenarios: each sets up the simulated network in one way and
// names the findings a correct diagnosis must produce. `miprobe demo` and
// the scenario tests share this table.
import type { DnsBehaviour } from './dns-server.js';

export interface DnsSetup {
  /** Behaviour of the custom resolver for the instance name. */
  readonly behaviour?: DnsBehaviour;
  /** The ILB answer is a public (documentation) address instead of the subnet's. */
  readonly publicAnswer?: boolean;
  /** A second custom resolver answering with another address. */
  readonly disagreeingResolver?: boolean;
  /** The CNAME target has no ".vnet" label (November 2022 architecture). */
  readonly noVnetLabel?: boolean;
  /** The CNAME chain loops back on itself. */
  readonly cnameLoop?: boolean;
  /** The custom resolver lacks these required names (NXDOMAIN for them). */
  readonly missingRequired?: readonly string[];
  /** Also run an Azure resolver (168.63.129.16's stand-in) with the correct zone. */
  readonly azureResolver?: boolean;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly dns: DnsSetup;
  /** Finding ids a correct diagnosis produces, exactly. */
  readonly expectFindings: readonly string[];
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'healthy', description: 'Everything as it should be: the name resolves through the VNet chain to the ILB in the subnet.',
    dns: { azureResolver: true }, expectFindings: [] },
  { name: 'dns-nxdomain', description: 'The custom resolver says the instance name does not exist.',
    dns: { behaviour: 'nxdomain' }, expectFindings: ['DNS-001'] },
  { name: 'dns-servfail', description: 'The custom resolver fails to recurse (SERVFAIL).',
    dns: { behaviour: 'servfail' }, expectFindings: ['DNS-011'] },
  { name: 'dns-timeout', description: 'The custom resolver never answers.',
    dns: { behaviour: 'silent' }, expectFindings: ['DNS-002'] },
  { name: 'dns-truncated', description: 'The UDP answer is truncated; the full answer needs TCP.',
    dns: { behaviour: 'truncate-udp' }, expectFindings: ['DNS-013'] },
  { name: 'dns-malformed', description: 'Something mangles DNS answers on the way back.',
    dns: { behaviour: 'malformed' }, expectFindings: ['DNS-011'] },
  { name: 'dns-public-address', description: 'The instance name resolves to a public address (a stale override).',
    dns: { publicAnswer: true }, expectFindings: ['DNS-003'] },
  { name: 'dns-disagree', description: 'Two custom resolvers give different addresses for the instance.',
    dns: { disagreeingResolver: true }, expectFindings: ['DNS-004', 'DNS-005'] },
  { name: 'dns-azure-disagrees', description: 'The custom resolver holds a stale copy that differs from Azure DNS.',
    dns: { disagreeingResolver: true, azureResolver: true }, expectFindings: ['DNS-004', 'DNS-015'] },
  { name: 'no-vnet-label', description: 'The newer architecture: no ".vnet" label, so no management endpoint.',
    dns: { noVnetLabel: true }, expectFindings: ['DNS-006'] },
  { name: 'dns-cname-loop', description: 'A CNAME chain that points back at itself.',
    dns: { cnameLoop: true }, expectFindings: ['DNS-010'] },
  { name: 'custom-dns-missing', description: 'The custom resolver cannot resolve domains the instance depends on.',
    dns: { missingRequired: ['microsoftonline.com', 'ocsp.digicert.com', 'crl.microsoft.com'] }, expectFindings: ['DNS-009'] },
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
