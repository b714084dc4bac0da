// The NSG evaluator and its pieces: ports, address relations, ARM shapes, priority order.
import t from 'tap';
import { addressRelation, parseAddressSpec, requiredTag, type RequiredAddress } from '../../src/network/addresses.js';
import { parseNsg, parseRouteTable, type Nsg } from '../../src/network/arm.js';
import { evaluateFlow, type FlowSpec } from '../../src/network/nsg.js';
import { formatPorts, intersectPorts, parsePortRange, portsOf, subtractPorts, ALL_PORTS } from '../../src/network/ports.js';
import { parseCidr, type Cidr } from '../../src/net/address.js';
import { evaluateRoute } from '../../src/network/routes.js';
import { ROUTE_REQUIREMENTS } from '../../src/network/requirements.js';

const subnet: RequiredAddress = { kind: 'subnet', cidrs: [parseCidr('10.1.0.0/24') as Cidr], text: 'MI SUBNET' };

t.test('port ranges', async (t) => {
  t.same(parsePortRange('*'), ALL_PORTS);
  t.same(parsePortRange('1000-2000'), [[1000, 2000]]);
  t.same(parsePortRange('80,443, 1000-1002'), [[80, 80], [443, 443], [1000, 1002]]);
  t.equal(parsePortRange('2000-1000'), undefined);
  t.equal(parsePortRange('70000'), undefined);
  t.same(subtractPorts(portsOf(9000, 9003, 1438), [[9000, 9003]]), [[1438, 1438]]);
  t.same(intersectPorts([[0, 100], [200, 300]], [[50, 250]]), [[50, 100], [200, 250]]);
  t.equal(formatPorts(portsOf(9003, 9000, 1452)), '1452, 9000, 9003');
});

t.test('address relations', async (t) => {
  const rel = (rule: string[], q: RequiredAddress): string => addressRelation(rule.map(parseAddressSpec), q);
  t.equal(rel(['*'], requiredTag('SqlManagement')), 'covers');
  t.equal(rel(['Internet'], requiredTag('SqlManagement')), 'covers');
  t.equal(rel(['AzureCloud'], requiredTag('Storage.westeurope')), 'covers');
  t.equal(rel(['AzureCloud.westeurope'], requiredTag('Storage.WestEurope')), 'covers');
  t.equal(rel(['AzureCloud.northeurope'], requiredTag('Storage.westeurope')), 'partial');
  t.equal(rel(['Storage.westeurope'], requiredTag('Storage')), 'partial');
  t.equal(rel(['Storage'], requiredTag('SqlManagement')), 'disjoint');
  t.equal(rel(['VirtualNetwork'], subnet), 'covers');
  t.equal(rel(['Internet'], subnet), 'disjoint');
  t.equal(rel(['10.0.0.0/8'], subnet), 'covers');
  t.equal(rel(['10.1.0.0/25'], subnet), 'partial');
  t.equal(rel(['10.2.0.0/16', '10.1.0.0/16'], subnet), 'covers');
  t.equal(rel(['192.168.0.0/16'], subnet), 'disjoint');
  t.equal(rel(['168.63.129.16'], requiredTag('AzureLoadBalancer')), 'covers');
  t.equal(rel(['10.0.0.0/8'], requiredTag('SqlManagement')), 'disjoint');
  t.equal(rel(['20.0.0.0/8'], requiredTag('SqlManagement')), 'partial');
  t.equal(rel(['VirtualNetwork'], { kind: 'any' }), 'partial');
});

function nsgOf(rules: unknown[], defaults = true): Nsg {
  return parseNsg({ name: 'n', type: 'Microsoft.Network/networkSecurityGroups', securityRules: rules,
    ...(defaults ? {} : { defaultSecurityRules: [] }) });
}

const mgmt: FlowSpec = { direction: 'Inbound', protocol: 'Tcp', source: requiredTag('SqlManagement'), destination: subnet,
  ports: portsOf(9000, 9003, 1438, 1440, 1452) };

t.test('ARM nested properties, singular and plural fields, rule order by priority', async (t) => {
  const nsg = nsgOf([
    { name: 'deny-all', properties: { priority: 4096, direction: 'Inbound', access: 'Deny', protocol: '*', sourceAddressPrefix: '*',
      destinationAddressPrefix: '*', sourcePortRange: '*', destinationPortRange: '*' } },
    { name: 'mgmt-a', properties: { priority: 200, direction: 'Inbound', access: 'Allow', protocol: 'TCP', sourceAddressPrefixes: ['SqlManagement', '1.2.3.4'],
      destinationAddressPrefixes: ['10.1.0.0/16'], sourcePortRange: '*', destinationPortRanges: ['9000-9003'] } },
    { name: 'mgmt-b', priority: 300, direction: 'Inbound', access: 'Allow', protocol: 'Tcp', sourceAddressPrefix: 'Internet',
      destinationAddressPrefix: '*', sourcePortRanges: [], sourcePortRange: '*', destinationPortRange: '1438,1440,1452' },
  ]);
  t.equal(nsg.defaultsAssumed, true);
  t.equal(nsg.rules.filter((r) => r.isDefault).length, 6);
  const ev = evaluateFlow(nsg, mgmt);
  t.same(ev.allowedBy.map((d) => [d.rule.name, formatPorts(d.ports)]), [['mgmt-a', '9000, 9003'], ['mgmt-b', '1438, 1440, 1452']]);
  t.same(ev.deniedPorts, []);
});

t.test('protocols: Udp does not match Tcp, Tcp only partly matches Any', async (t) => {
  const nsg = nsgOf([
    { name: 'udp', priority: 100, direction: 'Inbound', access: 'Deny', protocol: 'Udp', sourceAddressPrefix: '*', destinationAddressPrefix: '*',
      sourcePortRange: '*', destinationPortRange: '*' },
    { name: 'tcp-subnet', priority: 110, direction: 'Inbound', access: 'Allow', protocol: 'Tcp', sourceAddressPrefix: '10.1.0.0/24',
      destinationAddressPrefix: '10.1.0.0/24', sourcePortRange: '*', destinationPortRange: '*' },
  ]);
  t.same(evaluateFlow(nsg, mgmt).deniedBy.map((d) => d.rule.name), ['DenyAllInBound'], 'udp deny ignored for Tcp');
  const internal: FlowSpec = { direction: 'Inbound', protocol: '*', source: subnet, destination: subnet, ports: ALL_PORTS };
  const ev = evaluateFlow(nsg, internal);
  t.same(ev.partialDenies.map((p) => p.rule.name), ['udp']);
  t.same(ev.partialAllows.map((p) => p.rule.name), ['tcp-subnet']);
  t.same(ev.allowedBy.map((d) => d.rule.name), ['AllowVnetInBound'], 'the default rule admits it');
});

t.test('a custom deny before a custom allow is a shadowing; source-port-restricted rules do not decide', async (t) => {
  const nsg = nsgOf([
    { name: 'deny-9000', priority: 150, direction: 'Inbound', access: 'Deny', protocol: 'Tcp', sourceAddressPrefix: '*',
      destinationAddressPrefix: '*', sourcePortRange: '*', destinationPortRange: '9000' },
    { name: 'allow-sp', priority: 140, direction: 'Inbound', access: 'Allow', protocol: 'Tcp', sourceAddressPrefix: '*',
      destinationAddressPrefix: '*', sourcePortRange: '1024-65535', destinationPortRange: '9000' },
    { name: 'mgmt', priority: 200, direction: 'Inbound', access: 'Allow', protocol: 'Tcp', sourceAddressPrefix: 'SqlManagement',
      destinationAddressPrefix: 'VirtualNetwork', sourcePortRange: '*', destinationPortRanges: ['9000', '9003', '1438', '1440', '1452'] },
  ]);
  const ev = evaluateFlow(nsg, mgmt);
  t.same(ev.shadowed.map((s) => [s.deny.name, s.allow.name, formatPorts(s.ports)]), [['deny-9000', 'mgmt', '9000']]);
  t.same(ev.partialAllows.map((p) => p.rule.name), ['allow-sp']);
  t.equal(formatPorts(ev.allowedPorts), '1438, 1440, 1452, 9003');
});

t.test('routes: longest prefix match; exact beats wider, wider tag counts, 0.0.0.0/0 to an appliance is a wrong hop', async (t) => {
  const rt = (routes: Array<[string, string, string]>) => parseRouteTable({ name: 'rt', type: 'Microsoft.Network/routeTables',
    routes: routes.map(([name, addressPrefix, nextHopType]) => ({ name, addressPrefix, nextHopType })) });
  const req = ROUTE_REQUIREMENTS.find((r) => r.name === 'mi-storage-REGION-internet')!;
  const ctx = { subnetCidrs: [parseCidr('10.1.0.0/24') as Cidr], region: 'westeurope' };
  t.match(evaluateRoute(rt([['s', 'Storage', 'Internet']]), req, ctx), { status: 'pass', carrier: { relation: 'wider', route: { name: 's' } } });
  t.match(evaluateRoute(rt([['d', '0.0.0.0/0', 'VirtualAppliance'], ['x', 'storage.WestEurope', 'Internet']]), req, ctx),
    { status: 'pass', carrier: { relation: 'exact', route: { name: 'x' } } });
  t.match(evaluateRoute(rt([['d', '0.0.0.0/0', 'VirtualAppliance']]), req, ctx),
    { status: 'wrong-hop', takers: [{ relation: 'wider', route: { name: 'd' } }] });
  t.match(evaluateRoute(rt([]), req, ctx), { status: 'missing', name: 'mi-storage-westeurope-internet', prefix: 'Storage.westeurope' });
  // A regional tag inside a required global tag takes its region's part.
  const storage = ROUTE_REQUIREMENTS.find((r) => r.name === 'mi-storage-internet')!;
  t.match(evaluateRoute(rt([['s', 'Storage', 'Internet'], ['r', 'Storage.westeurope', 'VirtualAppliance']]), storage, ctx),
    { status: 'wrong-hop', takers: [{ relation: 'narrower', route: { name: 'r' } }] });
  const local = ROUTE_REQUIREMENTS.find((r) => r.key === 'current.route.subnet-to-vnetlocal')!;
  t.match(evaluateRoute(rt([['v', '10.1.0.0/24', 'VnetLocal']]), local, ctx), { status: 'pass', name: 'subnet-10-1-0-0-24-to-vnetlocal' });
  // Inside the subnet, the most specific route takes its part, whatever the subnet route says.
  const inner = evaluateRoute(rt([['v', '10.1.0.0/24', 'VnetLocal'], ['fw', '10.1.0.128/25', 'VirtualAppliance'],
    ['fw27', '10.1.0.32/27', 'VirtualAppliance'], ['ok', '10.1.0.64/27', 'VnetLocal']]), local, ctx);
  t.match(inner, { status: 'wrong-hop' });
  t.same(inner.status === 'wrong-hop' ? inner.takers.map((x) => [x.relation, x.route.name]) : [], [['narrower', 'fw27'], ['narrower', 'fw']],
    'both diverting routes, most specific first; the VnetLocal /27 is no problem');
  t.match(evaluateRoute(rt([['v', '10.1.0.0/24', 'VirtualAppliance']]), local, ctx), { status: 'wrong-hop', takers: [{ relation: 'exact' }] });
  // No subnet route: missing, and the inner route is still named.
  t.match(evaluateRoute(rt([['fw27', '10.1.0.32/27', 'VirtualAppliance']]), local, ctx),
    { status: 'missing', diverted: [{ relation: 'narrower', route: { name: 'fw27' } }] });
  // A wider route elsewhere: missing; 0.0.0.0/0 always loses to the VNet's system route, a /16 may not.
  t.match(evaluateRoute(rt([['d', '0.0.0.0/0', 'VirtualAppliance']]), local, ctx), { status: 'missing', wider: undefined, diverted: [] });
  t.match(evaluateRoute(rt([['w', '10.1.0.0/16', 'VirtualAppliance']]), local, ctx), { status: 'missing', wider: { route: { name: 'w' } } });
  t.match(evaluateRoute(rt([['w', '10.1.0.0/16', 'VnetLocal']]), local, ctx), { status: 'pass', carrier: { relation: 'wider' } });
});
