// The demo scenarios: each sets up the simulated network in one way and
// names the findings a correct diagnosis must produce. `miprobe demo` and
// the scenario tests share this table. A scenario is a DNS setup, a gateway
// scenario (src/sim/tds-scenarios.ts), a PKI/responder scenario
// (src/sim/revocation-responders.ts) and the management ports that listen.
import type { LoginMode } from '../config/schema.js';
import type { DnsBehaviour } from './dns-server.js';
import { REVOCATION_SCENARIOS } from './revocation-responders.js';
import { TDS_SCENARIOS } from './tds-scenarios.js';

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
  /** The gateway's scenario (TDS_SCENARIOS); default proxy-healthy. */
  readonly tds?: string;
  /** How the diagnosis logs in; default the gateway scenario's mode. */
  readonly login?: LoginMode;
  /** The PKI and responders' scenario (REVOCATION_SCENARIOS); default good. */
  readonly revocation?: string;
  /** Ports that listen on the management endpoint (its firewall lets them through). */
  readonly managementOpen?: readonly number[];
  /** Finding ids a correct diagnosis produces, exactly. */
  readonly expectFindings: readonly string[];
}

const DNS_SCENARIOS: readonly Scenario[] = [
  { name: 'healthy', description: 'Everything as it should be: the name resolves through the VNet chain to the ILB in the subnet, the gateway answers PRELOGIN, TLS and a dummy login (18456), revocation checks pass, the management ports are closed.',
    dns: { azureResolver: true }, expectFindings: ['LOGIN-012'] },
  { name: 'dns-nxdomain', description: 'The custom resolver says the instance name does not exist.',
    dns: { behaviour: 'nxdomain' }, login: 'none', expectFindings: ['DNS-001'] },
  { name: 'dns-servfail', description: 'The custom resolver fails to recurse (SERVFAIL).',
    dns: { behaviour: 'servfail' }, login: 'none', expectFindings: ['DNS-011'] },
  { name: 'dns-timeout', description: 'The custom resolver never answers.',
    dns: { behaviour: 'silent' }, login: 'none', expectFindings: ['DNS-002'] },
  { name: 'dns-truncated', description: 'The UDP answer is truncated; the full answer needs TCP.',
    dns: { behaviour: 'truncate-udp' }, login: 'none', expectFindings: ['DNS-013'] },
  { name: 'dns-malformed', description: 'Something mangles DNS answers on the way back.',
    dns: { behaviour: 'malformed' }, login: 'none', expectFindings: ['DNS-011'] },
  { name: 'dns-public-address', description: 'The instance name resolves to a public address (a stale override); miprobe will not connect there.',
    dns: { publicAnswer: true }, login: 'none', expectFindings: ['DNS-003', 'TCP-004'] },
  { name: 'dns-disagree', description: 'Two custom resolvers give different addresses for the instance.',
    dns: { disagreeingResolver: true }, login: 'none', expectFindings: ['DNS-004', 'DNS-005'] },
  { name: 'dns-azure-disagrees', description: 'The custom resolver holds a stale copy that differs from Azure DNS.',
    dns: { disagreeingResolver: true, azureResolver: true }, login: 'none', expectFindings: ['DNS-004', 'DNS-015'] },
  { name: 'no-vnet-label', description: 'The newer architecture: no ".vnet" label, so no management endpoint.',
    dns: { noVnetLabel: true }, login: 'none', expectFindings: ['DNS-006'] },
  { name: 'dns-cname-loop', description: 'A CNAME chain that points back at itself.',
    dns: { cnameLoop: true }, login: 'none', expectFindings: ['DNS-010'] },
  { name: 'custom-dns-missing', description: 'The custom resolver cannot resolve domains the instance depends on.',
    dns: { missingRequired: ['microsoftonline.com', 'ocsp.digicert.com', 'crl.microsoft.com'] }, login: 'none',
    // crl.microsoft.com no longer resolves, so that platform revocation endpoint is unreachable too.
    expectFindings: ['DNS-009', 'REV-002'] },
  { name: 'management-port-open', description: 'Port 9000 of the management endpoint answers from this network: its built-in firewall is not filtering.',
    dns: {}, login: 'none', managementOpen: [9000], expectFindings: ['MGMT-001'] },
];

/**
 * Findings the gateway scenarios add on top of their own in this network (revocation of the chains they present).
 * None today: an untrusted chain (cert-untrusted) is not the CA's, so its revocation is not checked.
 */
const TDS_EXTRA: Readonly<Record<string, readonly string[]>> = {};

/** Findings the PKI scenarios add on top of their own: the default login is a dummy one, which 18456 answers. */
const REVOCATION_EXTRA: Readonly<Record<string, readonly string[]>> = {
  // Without its intermediate the chain cannot be verified: TLS (and so the login) fails as in any client without AIA fetching.
  'missing-intermediate': ['TLS-002', 'LOGIN-009'],
};

export const SCENARIOS: readonly Scenario[] = [
  ...DNS_SCENARIOS,
  ...TDS_SCENARIOS.filter((t) => t.name !== 'proxy-healthy').map((t): Scenario => ({
    name: t.name, description: t.description, dns: {}, tds: t.name,
    expectFindings: [...t.expected, ...(TDS_EXTRA[t.name] ?? [])],
  })),
  ...REVOCATION_SCENARIOS.filter((r) => r.name !== 'good').map((r): Scenario => ({
    name: `revocation-${r.name}`, description: `Certificate revocation: ${r.description}.`, dns: {}, revocation: r.name,
    expectFindings: [...r.expected, ...(REVOCATION_EXTRA[r.name] ?? ['LOGIN-012'])],
  })),
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
