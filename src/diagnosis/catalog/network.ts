// Findings of `miprobe check-network`: NSG rules, user-defined routes, the
// subnet and its virtual network, checked offline from `az ... -o json` exports.
// The requirements themselves are data in src/network/requirements.ts. References are public.
import type { FindingDefinition } from '../finding.js';
import {
  AZURE_ROUTE_SELECTION, DOC_CHECK_NETWORK, MI_CUSTOM_DNS, MI_DNS_SYNC, MI_LEGACY_INBOUND, MI_LEGACY_OUTBOUND,
  MI_LEGACY_ROUTES, MI_MANDATORY_RULES, MI_NETWORKING_CONSTRAINTS, MI_NETWORK_REQUIREMENTS, MI_OPTIONAL_RULES,
  MI_ORIGINAL_OUTBOUND, MI_ORIGINAL_VNET_REQUIREMENTS,
} from '../../requirements/sources.js';

/** Both configurations' rule tables: the current one and the one before the November 2022 feature wave. */
const CURRENT_TABLES = `${MI_MANDATORY_RULES} (current configuration)`;
const RULE_TABLES = `${CURRENT_TABLES}; ${MI_LEGACY_INBOUND} (before the November 2022 feature wave: inbound); `
  + `${MI_LEGACY_OUTBOUND} (before the November 2022 feature wave: outbound)`;
const ROUTE_TABLES = `${CURRENT_TABLES}; ${MI_LEGACY_ROUTES} (before the November 2022 feature wave: routes)`;
/** The original article asked for the mandatory rules "before any other rules". */
const IN_FRONT = `${MI_ORIGINAL_VNET_REQUIREMENTS} (the mandatory rules in front of any other rules); ${RULE_TABLES}`;

export const NSG = {
  missingRule: { id: 'NSG-001', severity: 'critical', title: 'A mandatory security rule is missing: the required traffic is denied',
    fix: 'Add an allow rule for exactly this traffic, in front of any deny rule (the az command below does it).',
    ref: `${RULE_TABLES}; ${DOC_CHECK_NETWORK}` },
  shadowedRule: { id: 'NSG-002', severity: 'critical', title: 'A mandatory allow rule is shadowed by a higher-priority deny rule',
    fix: 'Give the allow rule a lower priority number than the deny rule (the az command below does it), or narrow the deny rule so it no longer matches this traffic.',
    ref: IN_FRONT },
  wrongPorts: { id: 'NSG-003', severity: 'critical', title: 'A mandatory rule allows only some of the required ports',
    fix: 'Add the missing ports to the rule\'s destination port ranges (the az command below does it).',
    ref: RULE_TABLES },
  partialDeny: { id: 'NSG-004', severity: 'warning', title: 'A higher-priority deny rule blocks part of the mandatory traffic',
    fix: 'The deny rule may match some of the required traffic (a service tag overlap miprobe cannot expand offline). Move it behind the mandatory rule (higher priority number) or exclude the mandatory traffic from it.',
    ref: IN_FRONT },
  certainPartialDeny: { id: 'NSG-010', severity: 'critical', title: 'A higher-priority deny rule blocks part of a mandatory flow',
    fix: 'The deny rule certainly matches some of the traffic the mandatory rule must allow (a narrower protocol, prefix or source port range, not just an unknown tag overlap). Move it behind the mandatory rule (higher priority number) or exclude the mandatory traffic from it.',
    ref: IN_FRONT },
  splitManagementRule: { id: 'NSG-005', severity: 'warning', title: 'Management ports are allowed by several rules instead of one',
    fix: 'Allow 9000, 9003, 1438, 1440 and 1452 in a single rule: the original requirements warn that deployments through Azure Resource Manager fail with VnetSubnetConflictWithIntendedPolicy when the management ports are split over several rules.',
    ref: `${MI_ORIGINAL_OUTBOUND} (only one inbound rule for the management ports)` },
  platformRuleChanged: { id: 'NSG-006', severity: 'warning', title: 'A platform rule does not do what the platform configured',
    fix: 'Restore the Microsoft.Sql-managedInstances_UseOnly_mi-* rule to what the platform wrote (source, destination, ports, action). The network intent policy normally refuses such changes, so also check that the export is current. For traffic of your own, create rules under your own names: service updates may delete and recreate every rule with this prefix.',
    ref: MI_MANDATORY_RULES },
  platformRuleAbsent: { id: 'NSG-007', severity: 'info', title: 'A platform rule is not present by its name',
    fix: 'Nothing to do when another rule admits the same traffic; the platform adds its rules when an instance is deployed into the subnet.',
    ref: MI_MANDATORY_RULES },
  recommendedRule: { id: 'NSG-008', severity: 'warning', title: 'A security rule from the original requirements table is missing',
    fix: 'Allow this traffic unless you have confirmed the instance does not need it (the service-aided table dropped it); the az command below adds it.',
    ref: `${MI_ORIGINAL_OUTBOUND}; ${MI_LEGACY_OUTBOUND}` },
  optionalRule: { id: 'NSG-009', severity: 'info', title: 'An optional security rule is not in place',
    fix: 'Nothing is required: optional platform rules may be removed and are being retired. If the instance must reach Azure services over 443 through this NSG (storage, Key Vault, Microsoft Entra ID), allow that traffic with a rule of your own.',
    ref: MI_OPTIONAL_RULES },
} satisfies Record<string, FindingDefinition>;

export const UDR = {
  missingRoute: { id: 'UDR-001', severity: 'critical', title: 'A mandatory user-defined route is missing',
    fix: 'Add the route to the subnet\'s route table (the az command below does it).',
    ref: `${ROUTE_TABLES}; ${AZURE_ROUTE_SELECTION}` },
  wrongNextHop: { id: 'UDR-002', severity: 'critical', title: 'A mandatory route sends traffic to the wrong next hop',
    fix: 'Fix the route the evidence names: Azure sends traffic along the most specific matching route. A route for exactly this prefix gets the required next hop; a route inside the prefix (say a /27 of the subnet to an appliance) is removed or set to the required next hop, because changing the route for the whole prefix would not help; a wider route (0.0.0.0/0 to a firewall) may stay, and the required, more specific route is added. The az command below does the one that applies. Management traffic must not go through a firewall appliance or a gateway.',
    ref: `${AZURE_ROUTE_SELECTION}; ${ROUTE_TABLES}` },
} satisfies Record<string, FindingDefinition>;

export const SUBNET = {
  notDelegated: { id: 'SUBNET-001', severity: 'critical', title: 'The subnet is not delegated to Microsoft.Sql/managedInstances',
    fix: 'Delegate the subnet (the az command below does it); the platform then adds its mandatory rules and route.',
    ref: `${MI_NETWORK_REQUIREMENTS} (subnet delegation); ${MI_MANDATORY_RULES}` },
  notDedicated: { id: 'SUBNET-002', severity: 'critical', title: 'The subnet is not dedicated to managed instances',
    fix: 'Move other resources out of the subnet (or use another subnet); a gateway subnet cannot host managed instances.',
    ref: `${MI_NETWORK_REQUIREMENTS} (dedicated subnet)` },
  serviceEndpoints: { id: 'SUBNET-003', severity: 'critical', title: 'The subnet has service endpoints',
    fix: 'The original requirements forbid service endpoints on a managed instance subnet that is not delegated: remove them (the az command below does it), or delegate the subnet to Microsoft.Sql/managedInstances, whose service-aided configuration supports them.',
    ref: `${MI_ORIGINAL_VNET_REQUIREMENTS} (no service endpoints); ${MI_NETWORK_REQUIREMENTS}` },
  tooSmall: { id: 'SUBNET-004', severity: 'critical', title: 'The subnet has fewer addresses than the minimum',
    fix: 'Use a larger subnet (a /27 or larger gives 32 addresses, the current minimum); an instance already deployed has to be moved to the new subnet.',
    ref: `${MI_NETWORK_REQUIREMENTS} (sufficient IP addresses); ${MI_ORIGINAL_VNET_REQUIREMENTS} (16 at least before)` },
  belowRecommended: { id: 'SUBNET-005', severity: 'warning', title: 'The subnet is smaller than the recommended 32 addresses',
    fix: 'Plan a /27 or larger subnet; scaling and updates need spare addresses.',
    ref: `${MI_ORIGINAL_VNET_REQUIREMENTS} (sufficient IP addresses: 32 recommended)` },
  natGateway: { id: 'SUBNET-006', severity: 'critical', title: 'A NAT gateway is attached to the subnet',
    fix: 'Detach the NAT gateway from the managed instance subnet (the az command below does it).',
    ref: `${MI_NETWORKING_CONSTRAINTS} (NAT gateway)` },
  noNsg: { id: 'SUBNET-007', severity: 'critical', title: 'No network security group is attached to the subnet',
    fix: 'Attach an NSG that contains the mandatory rules: az network vnet subnet update ... --network-security-group <nsg>.',
    ref: `${MI_NETWORK_REQUIREMENTS} (network security group)` },
  noRouteTable: { id: 'SUBNET-008', severity: 'critical', title: 'No route table is attached to the subnet',
    fix: 'Attach a route table that contains the mandatory routes: az network vnet subnet update ... --route-table <route-table>.',
    ref: `${MI_NETWORK_REQUIREMENTS} (route table)` },
  exportMismatch: { id: 'SUBNET-009', severity: 'warning', title: 'An exported NSG or route table is not the one attached to the subnet',
    fix: 'Export the NSG and route table the subnet references (its networkSecurityGroup.id and routeTable.id) and run again.',
    ref: DOC_CHECK_NETWORK },
  ipv6Prefix: { id: 'SUBNET-010', severity: 'critical', title: 'The subnet has an IPv6 address prefix',
    fix: 'Remove the IPv6 prefix; managed instance subnets support IPv4 only.',
    ref: `${MI_NETWORKING_CONSTRAINTS} (IPv6 for Azure Virtual Network)` },
} satisfies Record<string, FindingDefinition>;

export const VNET = {
  customDnsWithoutAzure: { id: 'VNET-001', severity: 'critical', title: 'Custom DNS servers do not include Azure\'s recursive resolver 168.63.129.16',
    fix: 'The custom DNS servers must resolve public names (the original requirements ask for 168.63.129.16 in the list): add 168.63.129.16 to the virtual network\'s DNS servers (the az command below does it) or make the custom servers forward to it, check their coverage with `miprobe diagnose --dns-server <server>`, and synchronize the virtual cluster\'s DNS settings afterwards.',
    ref: `${MI_ORIGINAL_VNET_REQUIREMENTS} (optional custom DNS: add 168.63.129.16); ${MI_NETWORK_REQUIREMENTS} (custom DNS server); ${MI_CUSTOM_DNS}; ${MI_DNS_SYNC}` },
  vnetMismatch: { id: 'VNET-002', severity: 'warning', title: 'The exported virtual network does not contain the subnet',
    fix: 'Export the virtual network the subnet belongs to and run again.',
    ref: DOC_CHECK_NETWORK },
} satisfies Record<string, FindingDefinition>;
