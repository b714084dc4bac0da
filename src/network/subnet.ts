// Subnet and virtual network requirements: dedicated and delegated, no
// service endpoints (legacy), size, no NAT gateway, NSG and route table
// attached, IPv4 only (current), custom DNS including Azure's resolver.
import type { CheckLine } from '../diagnosis/check.js';
import { SUBNET, VNET } from '../diagnosis/catalog/network.js';
import { finding } from '../diagnosis/finding.js';
import { cidrCovers, cidrSize, parseCidr, type Cidr } from '../net/address.js';
import type { Nsg, RouteTable, Subnet, Vnet } from './arm.js';
import { nameFromId } from './arm.js';
import { azCommand, subnetUpdate } from './az.js';
import type { NetworkFinding } from './types.js';
import { SUBNET_REQUIREMENTS, type Architecture } from './requirements.js';

export interface SubnetCheckResult {
  readonly checks: CheckLine[];
  readonly findings: NetworkFinding[];
}

/** Why the rules of an NSG (the routes of a route table) cannot be checked for this subnet, and the finding that says so. */
export interface NotReached {
  readonly because: string;
  /** The id of the subnet finding that is the cause (SUBNET-007, SUBNET-008 or SUBNET-009). */
  readonly cause: string;
}

export interface SubnetAttachments extends SubnetCheckResult {
  /** Set when no NSG is attached, or the exported one is not the attached one: its rules filter nothing here. */
  readonly nsgNotReached?: NotReached;
  /** Set when no route table is attached, or the exported one is not the attached one: its routes carry nothing here. */
  readonly routesNotReached?: NotReached;
}

const sameId = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/** Resource providers whose ip configurations mean "something else lives here". */
const FOREIGN_IPCONFIG = /\/providers\/Microsoft\.Network\/(networkInterfaces|virtualNetworkGateways|applicationGateways|azureFirewalls|bastionHosts)\//i;

export function checkSubnet(subnet: Subnet, architecture: Architecture, nsg: Nsg | undefined, rt: RouteTable | undefined): SubnetAttachments {
  const checks: CheckLine[] = [];
  const findings: NetworkFinding[] = [];
  const upd = (args: string[]): string => subnetUpdate(subnet.resourceGroup, subnet.vnetName, subnet.name, args);
  const label = `subnet ${subnet.name}`;

  // Delegation.
  const delegatedToMi = subnet.delegations.some((d) => d.toLowerCase() === SUBNET_REQUIREMENTS.delegation.toLowerCase());
  if (delegatedToMi) checks.push({ name: 'Subnet delegation', status: 'pass', detail: `${label} is delegated to ${SUBNET_REQUIREMENTS.delegation}` });
  else {
    const seen = subnet.delegations.length ? `delegated to ${subnet.delegations.join(', ')}` : 'no delegation';
    checks.push({ name: 'Subnet delegation', status: 'fail', detail: `${label}: ${seen}` });
    findings.push({ ...finding(SUBNET.notDelegated, `${label} has ${seen}; expected ${SUBNET_REQUIREMENTS.delegation}`),
      command: upd(['--delegations', SUBNET_REQUIREMENTS.delegation]) });
  }

  // Dedicated.
  const foreign: string[] = [];
  if (subnet.name.toLowerCase() === 'gatewaysubnet') foreign.push('it is the gateway subnet (GatewaySubnet)');
  const otherDelegations = subnet.delegations.filter((d) => d.toLowerCase() !== SUBNET_REQUIREMENTS.delegation.toLowerCase());
  if (otherDelegations.length) foreign.push(`delegated to ${otherDelegations.join(', ')}`);
  if (subnet.privateEndpointIds.length) foreign.push(`private endpoints ${subnet.privateEndpointIds.slice(0, 3).map(nameFromId).join(', ')}`);
  const ipc = subnet.ipConfigurationIds.filter((id) => FOREIGN_IPCONFIG.test(id));
  if (ipc.length) foreign.push(`ip configurations of other resources (${ipc.slice(0, 3).map((id) => id.split('/').slice(-3).join('/')).join(', ')}${ipc.length > 3 ? ', ...' : ''})`);
  if (foreign.length) {
    checks.push({ name: 'Subnet dedicated', status: 'fail', detail: foreign.join('; ') });
    findings.push(finding(SUBNET.notDedicated, `${label}: ${foreign.join('; ')}`));
  } else checks.push({ name: 'Subnet dedicated', status: 'pass', detail: 'no other resources, delegations or private endpoints seen' });

  // Service endpoints: refused only on an undelegated subnet (the service-aided configuration supports them).
  if (subnet.serviceEndpoints.length === 0) checks.push({ name: 'Service endpoints', status: 'pass', detail: 'none' });
  else if (architecture === 'legacy' && !delegatedToMi) {
    checks.push({ name: 'Service endpoints', status: 'fail', detail: subnet.serviceEndpoints.join(', ') });
    findings.push({ ...finding(SUBNET.serviceEndpoints, `${label} has service endpoints: ${subnet.serviceEndpoints.join(', ')}`),
      command: azCommand(['az', 'network', 'vnet', 'subnet', 'update', '--resource-group', subnet.resourceGroup ?? '<resource-group>',
        '--vnet-name', subnet.vnetName ?? '<vnet>', '--name', subnet.name, '--remove', 'serviceEndpoints']) });
  } else checks.push({ name: 'Service endpoints', status: 'info', detail: `${subnet.serviceEndpoints.join(', ')} (allowed with the service-aided configuration: a delegated subnet)` });

  // Size and families.
  const cidrs = subnet.addressPrefixes.map((p) => parseCidr(p)).filter((c): c is Cidr => c !== undefined);
  const v4 = cidrs.filter((c) => c.family === 4);
  const v6 = cidrs.filter((c) => c.family === 6);
  const size = v4.reduce((n, c) => n + cidrSize(c), 0n);
  const min = SUBNET_REQUIREMENTS.minimumAddresses[architecture];
  const rec = SUBNET_REQUIREMENTS.recommendedAddresses;
  const sizeText = `${v4.map((c) => c.text).join(', ') || 'no IPv4 prefix'} = ${size} addresses`;
  if (size < BigInt(min)) {
    checks.push({ name: 'Subnet size', status: 'fail', detail: `${sizeText}; minimum ${min}` });
    findings.push(finding(SUBNET.tooSmall, `${label}: ${sizeText}; the ${architecture} configuration needs at least ${min}`));
  } else if (size < BigInt(rec)) {
    checks.push({ name: 'Subnet size', status: 'warn', detail: `${sizeText}; ${rec} recommended` });
    findings.push(finding(SUBNET.belowRecommended, `${label}: ${sizeText}; ${rec} recommended`));
  } else checks.push({ name: 'Subnet size', status: 'pass', detail: sizeText });
  if (v6.length && architecture === 'current') {
    checks.push({ name: 'Subnet IPv4 only', status: 'fail', detail: `IPv6 prefix ${v6.map((c) => c.text).join(', ')}` });
    findings.push(finding(SUBNET.ipv6Prefix, `${label} has IPv6 prefix ${v6.map((c) => c.text).join(', ')}`));
  } else if (architecture === 'current') checks.push({ name: 'Subnet IPv4 only', status: 'pass', detail: 'no IPv6 prefix' });

  // NAT gateway.
  if (subnet.natGatewayId) {
    checks.push({ name: 'NAT gateway', status: 'fail', detail: nameFromId(subnet.natGatewayId) });
    findings.push({ ...finding(SUBNET.natGateway, `${label} uses NAT gateway ${nameFromId(subnet.natGatewayId)}`),
      command: upd(['--remove', 'natGateway']) });
  } else checks.push({ name: 'NAT gateway', status: 'pass', detail: 'none attached' });

  // NSG and route table attached, and the exports are the attached ones. An NSG or route table the subnet does not use
  // filters or carries none of its traffic: its own checks are not reached (one cause, one critical).
  const attached = (kind: 'NSG' | 'Route table', id: string | undefined, exported: { id?: string; name: string } | undefined,
    missing: typeof SUBNET.noNsg, flag: string): NotReached | undefined => {
    const what = kind === 'NSG' ? 'network security group' : 'route table';
    const short = kind === 'NSG' ? 'NSG' : 'route table';
    const file = kind === 'NSG' ? '--nsg-file' : '--route-table-file';
    const effect = kind === 'NSG' ? 'its rules filter none of the subnet\'s traffic' : 'its routes carry none of the subnet\'s traffic';
    if (!id) {
      checks.push({ name: `${kind} attached`, status: 'fail', detail: 'none' });
      const unused = exported ? `; the ${short} in ${file} (${exported.name}) is not attached to it, so ${effect}: `
        + `its ${kind === 'NSG' ? 'rules' : 'routes'} are checked once it is attached (the command below attaches it)` : '';
      findings.push({ ...finding(missing, `${label} has no ${what}${unused}`),
        command: upd([flag, exported?.id ?? exported?.name ?? `<${kind === 'NSG' ? 'nsg' : 'route-table'}>`]) });
      return { cause: missing.id, because: exported ? `the ${short} in ${file} (${exported.name}) is not attached to ${label}, so ${effect}`
        : `${label} has no ${what}` };
    }
    if (exported && exported.id !== undefined && !sameId(exported.id, id)) {
      checks.push({ name: `${kind} attached`, status: 'warn', detail: `${nameFromId(id)} attached, but the export is ${exported.name}` });
      findings.push(finding(SUBNET.exportMismatch, `${label} references ${id}; the exported ${kind} is ${exported.id}`));
      return { cause: SUBNET.exportMismatch.id, because: `the ${short} in ${file} (${exported.name}) is not the one attached to ${label} `
        + `(${nameFromId(id)}), so ${effect}` };
    }
    checks.push({ name: `${kind} attached`, status: 'pass', detail: nameFromId(id) });
    return undefined;
  };
  const nsgNotReached = attached('NSG', subnet.nsgId, nsg, SUBNET.noNsg, '--network-security-group');
  const routesNotReached = attached('Route table', subnet.routeTableId, rt, SUBNET.noRouteTable, '--route-table');
  return { checks, findings, ...(nsgNotReached ? { nsgNotReached } : {}), ...(routesNotReached ? { routesNotReached } : {}) };
}

export function checkVnet(vnet: Vnet, subnet: Subnet): SubnetCheckResult {
  const checks: CheckLine[] = [];
  const findings: NetworkFinding[] = [];
  const azure = SUBNET_REQUIREMENTS.azureDns;
  const subnetCidrs = subnet.addressPrefixes.map((p) => parseCidr(p)).filter((c): c is Cidr => c !== undefined);
  const space = vnet.addressPrefixes.map((p) => parseCidr(p)).filter((c): c is Cidr => c !== undefined);
  const nameMismatch = subnet.vnetName !== undefined && subnet.vnetName.toLowerCase() !== vnet.name.toLowerCase();
  const outside = subnetCidrs.filter((s) => !space.some((v) => cidrCovers(v, s)));
  if (nameMismatch || outside.length) {
    const why = nameMismatch ? `the subnet belongs to ${subnet.vnetName}, the export is ${vnet.name}`
      : `${outside.map((c) => c.text).join(', ')} is outside ${vnet.addressPrefixes.join(', ')}`;
    checks.push({ name: 'VNet export', status: 'warn', detail: why });
    findings.push(finding(VNET.vnetMismatch, why));
  }
  if (vnet.dnsServers.length === 0) {
    checks.push({ name: 'VNet DNS', status: 'pass', detail: 'Azure-provided DNS (no custom servers)' });
  } else if (vnet.dnsServers.includes(azure)) {
    checks.push({ name: 'VNet DNS', status: 'pass', detail: `custom servers ${vnet.dnsServers.join(', ')} include ${azure}` });
    checks.push({ name: 'VNet DNS coverage', status: 'info',
      detail: 'custom servers must resolve public names; `miprobe diagnose --dns-server` checks that live' });
  } else {
    checks.push({ name: 'VNet DNS', status: 'fail', detail: `custom servers ${vnet.dnsServers.join(', ')} lack ${azure}` });
    findings.push({ ...finding(VNET.customDnsWithoutAzure, `${vnet.name} uses DNS servers ${vnet.dnsServers.join(', ')}; ${azure} is not among them`),
      command: azCommand(['az', 'network', 'vnet', 'update', '--resource-group', vnet.resourceGroup ?? '<resource-group>',
        '--name', vnet.name, '--dns-servers', ...vnet.dnsServers, azure]) });
  }
  return { checks, findings };
}
