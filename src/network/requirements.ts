// The mandatory NSG rules and user-defined routes of managed instance subnets,
// as data. Every entry cites the public document it encodes;
// src/network/check.ts evaluates them and nothing else in miprobe restates them.
//
// Two subnet configurations exist:
//   legacy   instances not enrolled in the November 2022 feature wave: a
//            management endpoint, the service-aided tables of Microsoft's
//            "prior to November 2022" article (which narrow the original
//            article's "Any" sources to SqlManagement, CorpnetSaw, CorpnetPublic
//            and AzureCloud). An NSG that satisfies the original article's wider
//            table satisfies these too, because the evaluator asks whether the
//            required traffic is allowed, not whether a rule is spelled alike.
//   current  enrolled instances: platform rules named
//            Microsoft.Sql-managedInstances_UseOnly_mi-*, and the
//            subnet-<range>-to-vnetlocal route.
import { AZURE_DNS, FAILOVER_GROUP_PORT, MANAGEMENT_CORPNET_PORTS, MANAGEMENT_PORTS, REDIRECT_PORTS } from '../requirements/platform.js';
import type { Severity } from '../diagnosis/finding.js';
import type { Direction, Protocol } from './arm.js';
import { ALL_PORTS, portsOf, unionPorts, type PortSet } from './ports.js';
import {
  MI_FAILOVER_GROUPS, MI_LEGACY_INBOUND, MI_LEGACY_OUTBOUND, MI_LEGACY_ROUTES, MI_MANDATORY_RULES, MI_OPTIONAL_RULES, MI_ORIGINAL_OUTBOUND,
} from '../requirements/sources.js';

export type Architecture = 'legacy' | 'current';

/**
 * `MI_SUBNET` is the subnet's own prefix; `PARTNER_SUBNET` the failover-group partner's (--failover-partner); `Any` is
 * `*`; anything else is a service tag.
 */
export type AddressRef = 'MI_SUBNET' | 'PARTNER_SUBNET' | 'Any' | string;

export interface RuleRequirement {
  /** Stable key, e.g. legacy.in.management. */
  readonly key: string;
  readonly architecture: Architecture;
  /** What the requirement is for, e.g. "management inbound from SqlManagement". */
  readonly label: string;
  readonly direction: Direction;
  readonly protocol: Protocol;
  readonly source: AddressRef;
  readonly destination: AddressRef;
  readonly ports: PortSet;
  /** Severity when the traffic is not allowed. */
  readonly severity: Severity;
  /** Only evaluated when the condition holds: --replication, or --failover-partner. */
  readonly when?: 'replication' | 'failover';
  /** Name and priority the `az` fix command proposes (the Microsoft scripts' values where known). */
  readonly suggested: { readonly name: string; readonly priority: number };
  /** Current configuration: the platform rule's name. */
  readonly platformName?: string;
  /** All ports must be allowed by a single rule (legacy management ports). */
  readonly singleRule?: boolean;
  readonly ref: string;
}

export interface RouteRequirement {
  readonly key: string;
  readonly architecture: Architecture;
  /** Route name; REGION and REGION_PAIR are filled from --region and --region-pair. */
  readonly name: string;
  /** `MI_SUBNET` or a service tag (with REGION / REGION_PAIR placeholders). */
  readonly prefix: AddressRef;
  readonly nextHopType: 'VnetLocal' | 'Internet';
  readonly ref: string;
}

export const PLATFORM_PREFIX = 'Microsoft.Sql-managedInstances_UseOnly_mi-';
export { MANAGEMENT_PORTS };

const LEGACY_IN = MI_LEGACY_INBOUND;
const LEGACY_OUT = MI_LEGACY_OUTBOUND;
const LEGACY_UDR = MI_LEGACY_ROUTES;
/** The original article: outbound 80, 443, 12000; port 445 for transactional replication. */
const ORIGINAL_OUT = MI_ORIGINAL_OUTBOUND;
const CURRENT = MI_MANDATORY_RULES;

/** Failover groups: the instances' subnets reach each other on 5022 and the redirect range, both ways, in both configurations. */
export const FAILOVER_PORTS: PortSet = unionPorts(portsOf(FAILOVER_GROUP_PORT), [[REDIRECT_PORTS.min, REDIRECT_PORTS.max]]);
const failoverRules = (architecture: Architecture): RuleRequirement[] => [
  { key: `${architecture}.in.failover`, architecture, label: 'failover group inbound from the partner subnet',
    direction: 'Inbound', protocol: 'Tcp', source: 'PARTNER_SUBNET', destination: 'MI_SUBNET', ports: FAILOVER_PORTS, when: 'failover',
    severity: 'critical', suggested: { name: 'allow_failover_group_inbound', priority: 1200 }, ref: MI_FAILOVER_GROUPS },
  { key: `${architecture}.out.failover`, architecture, label: 'failover group outbound to the partner subnet',
    direction: 'Outbound', protocol: 'Tcp', source: 'MI_SUBNET', destination: 'PARTNER_SUBNET', ports: FAILOVER_PORTS, when: 'failover',
    severity: 'critical', suggested: { name: 'allow_failover_group_outbound', priority: 1200 }, ref: MI_FAILOVER_GROUPS },
];

export const RULE_REQUIREMENTS: readonly RuleRequirement[] = [
  // Legacy, inbound.
  { key: 'legacy.in.management', architecture: 'legacy', label: 'management inbound from SqlManagement',
    direction: 'Inbound', protocol: 'Tcp', source: 'SqlManagement', destination: 'MI_SUBNET', ports: portsOf(...MANAGEMENT_PORTS),
    severity: 'critical', suggested: { name: 'allow_management_inbound', priority: 110 }, singleRule: true, ref: LEGACY_IN },
  { key: 'legacy.in.corpnetsaw', architecture: 'legacy', label: 'management inbound from CorpnetSaw',
    direction: 'Inbound', protocol: 'Tcp', source: 'CorpNetSaw', destination: 'MI_SUBNET', ports: portsOf(...MANAGEMENT_CORPNET_PORTS),
    severity: 'critical', suggested: { name: 'allow_corpnetsaw_inbound', priority: 111 }, ref: LEGACY_IN },
  { key: 'legacy.in.corpnetpublic', architecture: 'legacy', label: 'management inbound from CorpnetPublic',
    direction: 'Inbound', protocol: 'Tcp', source: 'CorpNetPublic', destination: 'MI_SUBNET', ports: portsOf(...MANAGEMENT_CORPNET_PORTS),
    severity: 'critical', suggested: { name: 'allow_corpnetpublic_inbound', priority: 112 }, ref: LEGACY_IN },
  { key: 'legacy.in.mi_subnet', architecture: 'legacy', label: 'mi_subnet inbound (subnet to subnet)',
    direction: 'Inbound', protocol: '*', source: 'MI_SUBNET', destination: 'MI_SUBNET', ports: ALL_PORTS,
    severity: 'critical', suggested: { name: 'allow_misubnet_inbound', priority: 160 }, ref: LEGACY_IN },
  { key: 'legacy.in.health_probe', architecture: 'legacy', label: 'health_probe inbound from AzureLoadBalancer',
    direction: 'Inbound', protocol: '*', source: 'AzureLoadBalancer', destination: 'MI_SUBNET', ports: ALL_PORTS,
    severity: 'critical', suggested: { name: 'allow_health_probe_inbound', priority: 170 }, ref: LEGACY_IN },
  // Legacy, outbound.
  { key: 'legacy.out.management', architecture: 'legacy', label: 'management outbound to AzureCloud',
    direction: 'Outbound', protocol: 'Tcp', source: 'MI_SUBNET', destination: 'AzureCloud', ports: portsOf(443, 12000),
    severity: 'critical', suggested: { name: 'allow_management_outbound', priority: 110 }, ref: LEGACY_OUT },
  { key: 'legacy.out.mi_subnet', architecture: 'legacy', label: 'mi_subnet outbound (subnet to subnet)',
    direction: 'Outbound', protocol: '*', source: 'MI_SUBNET', destination: 'MI_SUBNET', ports: ALL_PORTS,
    severity: 'critical', suggested: { name: 'allow_misubnet_outbound', priority: 140 }, ref: LEGACY_OUT },
  // The original article's outbound table also lists port 80; the service-aided table dropped it.
  { key: 'legacy.out.management80', architecture: 'legacy', label: 'management outbound port 80 (original table)',
    direction: 'Outbound', protocol: 'Tcp', source: 'MI_SUBNET', destination: 'AzureCloud', ports: portsOf(80),
    severity: 'warning', suggested: { name: 'allow_management_outbound_80', priority: 111 }, ref: ORIGINAL_OUT },
  { key: 'legacy.out.replication445', architecture: 'legacy', label: 'port 445 outbound for transactional replication (Azure file share)',
    direction: 'Outbound', protocol: 'Tcp', source: 'MI_SUBNET', destination: 'Storage', ports: portsOf(445), when: 'replication',
    severity: 'critical', suggested: { name: 'allow_replication_smb_outbound', priority: 120 }, ref: `${ORIGINAL_OUT} (transactional replication: port 445 outbound)` },
  // Current configuration: the platform's rules, matched by what they do.
  { key: 'current.in.healthprobe', architecture: 'current', label: 'healthprobe-in from AzureLoadBalancer',
    direction: 'Inbound', protocol: '*', source: 'AzureLoadBalancer', destination: 'MI_SUBNET', ports: ALL_PORTS,
    severity: 'critical', platformName: `${PLATFORM_PREFIX}healthprobe-in`,
    suggested: { name: 'allow_healthprobe_inbound', priority: 104 }, ref: CURRENT },
  { key: 'current.in.internal', architecture: 'current', label: 'internal-in (subnet to subnet)',
    direction: 'Inbound', protocol: '*', source: 'MI_SUBNET', destination: 'MI_SUBNET', ports: ALL_PORTS,
    severity: 'critical', platformName: `${PLATFORM_PREFIX}internal-in`,
    suggested: { name: 'allow_internal_inbound', priority: 105 }, ref: CURRENT },
  { key: 'current.out.internal', architecture: 'current', label: 'internal-out (subnet to subnet)',
    direction: 'Outbound', protocol: '*', source: 'MI_SUBNET', destination: 'MI_SUBNET', ports: ALL_PORTS,
    severity: 'critical', platformName: `${PLATFORM_PREFIX}internal-out`,
    suggested: { name: 'allow_internal_outbound', priority: 105 }, ref: CURRENT },
  { key: 'current.out.azure', architecture: 'current', label: 'optional-azure-out (443 to AzureCloud)',
    direction: 'Outbound', protocol: 'Tcp', source: 'MI_SUBNET', destination: 'AzureCloud', ports: portsOf(443),
    severity: 'info', platformName: `${PLATFORM_PREFIX}optional-azure-out`,
    suggested: { name: 'allow_azure_outbound', priority: 106 }, ref: MI_OPTIONAL_RULES },
  ...failoverRules('legacy'),
  ...failoverRules('current'),
];

export const ROUTE_REQUIREMENTS: readonly RouteRequirement[] = [
  ...([
    ['subnet-to-vnetlocal', 'MI_SUBNET', 'VnetLocal'],
    ['mi-azurecloud-REGION-internet', 'AzureCloud.REGION', 'Internet'],
    ['mi-azurecloud-REGION_PAIR-internet', 'AzureCloud.REGION_PAIR', 'Internet'],
    ['mi-azuremonitor-internet', 'AzureMonitor', 'Internet'],
    ['mi-corpnetpublic-internet', 'CorpNetPublic', 'Internet'],
    ['mi-corpnetsaw-internet', 'CorpNetSaw', 'Internet'],
    ['mi-eventhub-REGION-internet', 'EventHub.REGION', 'Internet'],
    ['mi-eventhub-REGION_PAIR-internet', 'EventHub.REGION_PAIR', 'Internet'],
    ['mi-sqlmanagement-internet', 'SqlManagement', 'Internet'],
    ['mi-storage-internet', 'Storage', 'Internet'],
    ['mi-storage-REGION-internet', 'Storage.REGION', 'Internet'],
    ['mi-storage-REGION_PAIR-internet', 'Storage.REGION_PAIR', 'Internet'],
    ['mi-azureactivedirectory-internet', 'AzureActiveDirectory', 'Internet'],
  ] as const).map(([name, prefix, nextHopType]): RouteRequirement => ({
    key: `legacy.route.${name}`, architecture: 'legacy', name, prefix, nextHopType, ref: LEGACY_UDR })),
  { key: 'current.route.subnet-to-vnetlocal', architecture: 'current', name: 'subnet-<range>-to-vnetlocal', prefix: 'MI_SUBNET',
    nextHopType: 'VnetLocal', ref: CURRENT },
];

/** Subnet requirements (sizes: the original article's 16 and 32, the current 32). */
export const SUBNET_REQUIREMENTS = {
  minimumAddresses: { legacy: 16, current: 32 },
  recommendedAddresses: 32,
  delegation: 'Microsoft.Sql/managedInstances',
  azureDns: AZURE_DNS,
} as const;
