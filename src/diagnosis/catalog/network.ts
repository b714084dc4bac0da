// Findings of `miprobe check-network`: NSG rules, user-defined routes, the
// subnet and its virtual network, checked offline from `az ... -o json` exports.
// The requirements themselves are data in src/network/requirements.ts.
import type { FindingDefinition } from '../finding.js';

const ORIGINAL = 'seed: Azure SQL Database Managed Instance Connectivity Architecture';
const LEGACY = 'seed: Connectivity architecture for Azure SQL Managed Instance before the November 2022 Feature Wave';
const CURRENT = 'REFERENCES: Managed Instance connectivity / Current subnet configuration';

export const NSG = {
  missingRule: { id: 'NSG-001', severity: 'critical', title: 'A mandatory security rule is missing: the required traffic is denied',
    fix: 'Add an allow rule for exactly this traffic, in front of any deny rule (the az command below does it).',
    ref: `${LEGACY} / Mandatory inbound and outbound security rules with service-aided subnet configuration` },
  shadowedRule: { id: 'NSG-002', severity: 'critical', title: 'A mandatory allow rule is shadowed by a higher-priority deny rule',
    fix: 'Give the allow rule a lower priority number than the deny rule, or narrow the deny rule so it no longer matches this traffic.',
    ref: `${ORIGINAL} / Network requirements (Compatible Network Security Group: mandatory rules in front of any other rules)` },
  wrongPorts: { id: 'NSG-003', severity: 'critical', title: 'A mandatory rule allows only some of the required ports',
    fix: 'Add the missing ports to the rule\'s destination port ranges.',
    ref: `${LEGACY} / Mandatory inbound security rules with service-aided subnet configuration` },
  partialDeny: { id: 'NSG-004', severity: 'warning', title: 'A higher-priority deny rule blocks part of the mandatory traffic',
    fix: 'Move the deny rule behind the mandatory rule (higher priority number) or exclude the mandatory traffic from it.',
    ref: `${ORIGINAL} / Network requirements (Compatible Network Security Group: mandatory rules in front of any other rules)` },
  certainPartialDeny: { id: 'NSG-010', severity: 'critical', title: 'A higher-priority deny rule blocks part of a mandatory flow',
    fix: 'The deny rule certainly matches some of the traffic the mandatory rule must allow (a narrower protocol, prefix or source port range, not just an unknown tag overlap). Move it behind the mandatory rule (higher priority number) or exclude the mandatory traffic from it.',
    ref: `${ORIGINAL} / Network requirements (Compatible Network Security Group: mandatory rules in front of any other rules)` },
  splitManagementRule: { id: 'NSG-005', severity: 'warning', title: 'Management ports are allowed by several rules instead of one',
    fix: 'Allow 9000, 9003, 1438, 1440 and 1452 in a single rule, as the Microsoft subnet preparation script does.',
    ref: 'REFERENCES: Managed Instance connectivity / Legacy scripts (management ports had to be one rule)' },
  platformRuleChanged: { id: 'NSG-006', severity: 'warning', title: 'A platform rule does not do what the platform configured',
    fix: 'Restore the Microsoft.Sql-managedInstances_UseOnly_mi-* rule to its original source, destination, ports and action; the Network Intent Policy expects it.',
    ref: CURRENT },
  platformRuleAbsent: { id: 'NSG-007', severity: 'info', title: 'A platform rule is not present by its name',
    fix: 'Nothing to do when another rule admits the same traffic; the platform adds its rules when an instance is deployed into the subnet.',
    ref: CURRENT },
  recommendedRule: { id: 'NSG-008', severity: 'warning', title: 'A security rule from the original requirements table is missing',
    fix: 'Allow this traffic unless you have confirmed the instance does not need it (the service-aided table dropped it).',
    ref: `${ORIGINAL} / Mandatory outbound security rules` },
  optionalRule: { id: 'NSG-009', severity: 'info', title: 'An optional security rule is not in place',
    fix: 'Add the rule if the instance must reach Azure services over 443 through this NSG.',
    ref: `${CURRENT} (optional mi-optional-azure-out)` },
} satisfies Record<string, FindingDefinition>;

export const UDR = {
  missingRoute: { id: 'UDR-001', severity: 'critical', title: 'A mandatory user-defined route is missing',
    fix: 'Add the route to the subnet\'s route table (the az command below does it).',
    ref: `${LEGACY} / Mandatory user defined routes with service-aided subnet configuration` },
  wrongNextHop: { id: 'UDR-002', severity: 'critical', title: 'A mandatory route sends traffic to the wrong next hop',
    fix: 'Set the route\'s next hop type to the required one (management traffic must not go through a firewall appliance or a gateway).',
    ref: `${LEGACY} / Mandatory user defined routes with service-aided subnet configuration` },
} satisfies Record<string, FindingDefinition>;

export const SUBNET = {
  notDelegated: { id: 'SUBNET-001', severity: 'critical', title: 'The subnet is not delegated to Microsoft.Sql/managedInstances',
    fix: 'Delegate the subnet: az network vnet subnet update ... --delegations Microsoft.Sql/managedInstances.',
    ref: `${CURRENT}; ${ORIGINAL} / Network requirements (Dedicated subnet)` },
  notDedicated: { id: 'SUBNET-002', severity: 'critical', title: 'The subnet is not dedicated to managed instances',
    fix: 'Move other resources out of the subnet (or use another subnet); a gateway subnet cannot host managed instances.',
    ref: `${ORIGINAL} / Network requirements (Dedicated subnet)` },
  serviceEndpoints: { id: 'SUBNET-003', severity: 'critical', title: 'The subnet has service endpoints',
    fix: 'Remove the service endpoints from the subnet.',
    ref: `${ORIGINAL} / Network requirements (No service endpoints)` },
  tooSmall: { id: 'SUBNET-004', severity: 'critical', title: 'The subnet has fewer addresses than the minimum',
    fix: 'Use a larger subnet (a /27 or larger gives the recommended 32 addresses).',
    ref: `${ORIGINAL} / Network requirements (Sufficient IP addresses); ${CURRENT}` },
  belowRecommended: { id: 'SUBNET-005', severity: 'warning', title: 'The subnet is smaller than the recommended 32 addresses',
    fix: 'Plan a /27 or larger subnet; scaling and updates need spare addresses.',
    ref: `${ORIGINAL} / Network requirements (Sufficient IP addresses)` },
  natGateway: { id: 'SUBNET-006', severity: 'critical', title: 'A NAT gateway is attached to the subnet',
    fix: 'Detach the NAT gateway from the managed instance subnet.',
    ref: `${CURRENT} (not supported: NAT gateway)` },
  noNsg: { id: 'SUBNET-007', severity: 'critical', title: 'No network security group is attached to the subnet',
    fix: 'Attach an NSG that contains the mandatory rules: az network vnet subnet update ... --network-security-group <nsg>.',
    ref: `${ORIGINAL} / Network requirements (Compatible Network Security Group)` },
  noRouteTable: { id: 'SUBNET-008', severity: 'critical', title: 'No route table is attached to the subnet',
    fix: 'Attach a route table that contains the mandatory routes: az network vnet subnet update ... --route-table <route-table>.',
    ref: `${ORIGINAL} / Network requirements (Compatible user-defined route table)` },
  exportMismatch: { id: 'SUBNET-009', severity: 'warning', title: 'An exported NSG or route table is not the one attached to the subnet',
    fix: 'Export the NSG and route table the subnet references (its networkSecurityGroup.id and routeTable.id) and run again.',
    ref: `${ORIGINAL} / Network requirements` },
  ipv6Prefix: { id: 'SUBNET-010', severity: 'critical', title: 'The subnet has an IPv6 address prefix',
    fix: 'Remove the IPv6 prefix; managed instance subnets support IPv4 only.',
    ref: `${CURRENT} (not supported: IPv6 prefixes)` },
} satisfies Record<string, FindingDefinition>;

export const VNET = {
  customDnsWithoutAzure: { id: 'VNET-001', severity: 'critical', title: 'Custom DNS servers do not include Azure\'s recursive resolver 168.63.129.16',
    fix: 'Add 168.63.129.16 to the virtual network\'s DNS servers, and make sure the custom servers resolve the Azure domains.',
    ref: `${ORIGINAL} / Network requirements (Optional custom DNS)` },
  vnetMismatch: { id: 'VNET-002', severity: 'warning', title: 'The exported virtual network does not contain the subnet',
    fix: 'Export the virtual network the subnet belongs to and run again.',
    ref: `${ORIGINAL} / Network requirements` },
} satisfies Record<string, FindingDefinition>;
