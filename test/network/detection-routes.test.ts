// check-network through its command: auto-detection picks the current configuration unless the exports show the
// legacy one, and says why; routes are judged by longest prefix match, and the finding and its az command name the
// route that takes the traffic.
import t from 'tap';
import { join } from 'node:path';
import { checkNetwork } from '../../src/cli/check-network.js';
import type { NetworkCheckReport, NetworkFinding } from '../../src/network/types.js';
import { runCommand } from '../helpers/network-cli.js';

const F = (name: string): string => join(import.meta.dirname, '..', 'fixtures', 'network', name);

async function check(files: { nsg?: string; rt?: string; subnet?: string }, extra: readonly string[] = []): Promise<NetworkCheckReport> {
  const argv = ['--subnet-file', F(files.subnet ?? 'subnet.json'), '--json', '--region', 'westeurope', '--region-pair', 'northeurope', ...extra];
  if (files.nsg) argv.push('--nsg-file', F(files.nsg));
  if (files.rt) argv.push('--route-table-file', F(files.rt));
  const run = await runCommand(checkNetwork, argv);
  return JSON.parse(run.stdout) as NetworkCheckReport;
}

const byId = (r: NetworkCheckReport, id: string): NetworkFinding[] => r.findings.filter((f) => f.id === id);
const checkLine = (r: NetworkCheckReport, name: string) => r.checks.find((c) => c.name === name);

t.test('auto: no managed instance rules at all is the current configuration, and the reason says so', async (t) => {
  const r = await check({ nsg: 'nsg-no-mi-rules.json', rt: 'rt-current-empty.json' });
  t.equal(r.architecture, 'current');
  t.match(r.architectureReason, /^auto: no legacy evidence in NSG nsg-sqlmi and route table rt-sqlmi \(no rule for the management ports 9000\/9003 or port 12000, no legacy rule or route names, no SqlManagement or CorpNet routes\): new deployments get the current configuration/);
  t.match(r.architectureReason, /pass --architecture legacy/);
  const udrChecks = r.checks.filter((c) => c.name.startsWith('UDR '));
  t.same(udrChecks.map((c) => c.name), ['UDR subnet-10-20-0-0-24-to-vnetlocal'], 'one route asked for, not the 13 legacy ones');
  t.notOk(r.checks.some((c) => /SqlManagement|CorpnetSaw|CorpnetPublic|management inbound/.test(c.name)), 'no legacy rule asked for');
});

t.test('auto: only the subnet exported: current, and the reason says nothing else was given', async (t) => {
  const r = await check({});
  t.equal(r.architecture, 'current');
  t.match(r.architectureReason, /no legacy evidence in the exports \(no NSG or route table given\)/);
});

t.test('auto: legacy evidence decides, and is named', async (t) => {
  const custom = await check({ nsg: 'nsg-legacy.json' });
  t.equal(custom.architecture, 'legacy');
  t.match(custom.architectureReason, /^auto: rule allow_management_inbound admits management ports 9000\/9003, /);
  t.match(custom.architectureReason, /\(the configuration before the November 2022 feature wave\)$/);
  const platform = await check({ nsg: 'nsg-legacy-service-aided.json' });
  t.equal(platform.architecture, 'legacy');
  t.match(platform.architectureReason, /^auto: the platform's own rule Microsoft\.Sql-managedInstances_UseOnly_mi-sqlmgmt-in-10-20-0-0-24-v10 admits management ports 9000\/9003/);
  const routes = await check({ rt: 'rt-legacy.json' });
  t.equal(routes.architecture, 'legacy');
  t.match(routes.architectureReason, /route subnet-to-vnetlocal has a legacy route name/);
  // The management ports in one rule of the original table (Any source) are evidence too.
  const original = await check({ nsg: 'nsg-legacy-original.json' });
  t.equal(original.architecture, 'legacy');
});

t.test('auto: platform rules without the management ports mean current, whatever customer rules remain', async (t) => {
  const r = await check({ nsg: 'nsg-current-leftover-legacy.json', rt: 'rt-current.json' });
  t.equal(r.architecture, 'current');
  t.match(r.architectureReason, /none of them admits the management ports 9000\/9003; ignored, as customer rules or routes the platform does not keep: rule allow_management_inbound admits management ports 9000\/9003/);
  t.same(r.findings.map((f) => f.id), []);
});

t.test('--architecture legacy still applies the legacy tables on request', async (t) => {
  const r = await check({ nsg: 'nsg-no-mi-rules.json', rt: 'rt-current-empty.json' }, ['--architecture', 'legacy']);
  t.equal(r.architecture, 'legacy');
  t.equal(r.architectureReason, 'given by --architecture');
  t.equal(r.checks.filter((c) => c.name.startsWith('UDR ')).length, 13);
});

t.test('a platform rule named as the platform names it (range, version) counts as present', async (t) => {
  const r = await check({ nsg: 'nsg-current-suffixed.json', rt: 'rt-current.json' });
  t.equal(r.architecture, 'current');
  t.same(byId(r, 'NSG-007'), [], 'no "absent by name" for …_mi-healthprobe-in-10-20-0-0-24-v11');
});

t.test('a /27 inside the subnet to an appliance: the /27 is named and removed, the subnet route is left alone', async (t) => {
  const r = await check({ nsg: 'nsg-current.json', rt: 'rt-current-inner-nva.json' });
  t.same(r.findings.map((f) => f.id), ['UDR-002']);
  const f = r.findings[0]!;
  t.match(f.evidence, 'traffic to 10.20.0.32/27, part of 10.20.0.0/24, follows inspect-10-20-0-32-27 (10.20.0.32/27 -> VirtualAppliance 10.20.2.4)');
  t.match(f.evidence, /longest prefix match/);
  t.match(f.evidence, /changing the route for 10\.20\.0\.0\/24 would not help/);
  t.equal(f.command, 'az network route-table route delete --resource-group rg-sqlmi --route-table-name rt-sqlmi --name inspect-10-20-0-32-27');
  t.notOk(r.findings.some((x) => /route create/.test(x.command ?? '')), 'no "add the subnet route": it exists and would change nothing');
  t.match(checkLine(r, 'UDR subnet-10-20-0-0-24-to-vnetlocal'),
    { status: 'fail', detail: '10.20.0.32/27 of 10.20.0.0/24 goes to VirtualAppliance via inspect-10-20-0-32-27' });
  t.match(f.ref, /virtual-networks-udr-overview#how-azure-selects-a-route/);
});

t.test('the same in the legacy configuration', async (t) => {
  const r = await check({ nsg: 'nsg-legacy.json', rt: 'rt-legacy-inner-nva.json' });
  t.equal(r.architecture, 'legacy');
  t.same(r.findings.map((f) => [f.id, f.command]),
    [['UDR-002', 'az network route-table route delete --resource-group rg-sqlmi --route-table-name rt-sqlmi --name inspect-10-20-0-32-27']]);
});

t.test('only the /27, no subnet route: the missing route is added and the /27 still removed', async (t) => {
  const r = await check({ nsg: 'nsg-current.json', rt: 'rt-current-inner-nva-only.json' });
  t.same(r.findings.map((f) => [f.id, f.command]), [
    ['UDR-001', 'az network route-table route create --resource-group rg-sqlmi --route-table-name rt-sqlmi --name subnet-10-20-0-0-24-to-vnetlocal --address-prefix 10.20.0.0/24 --next-hop-type VnetLocal'],
    ['UDR-002', 'az network route-table route delete --resource-group rg-sqlmi --route-table-name rt-sqlmi --name inspect-10-20-0-32-27'],
  ]);
});

t.test('a wider route to an appliance and no subnet route: the subnet route is added, and wins by longest prefix', async (t) => {
  const r = await check({ nsg: 'nsg-current.json', rt: 'rt-current-wide-nva.json' });
  t.same(r.findings.map((f) => f.id), ['UDR-001']);
  t.match(r.findings[0]!.evidence, /until it exists, vnet-to-firewall \(10\.20\.0\.0\/16 -> VirtualAppliance 10\.20\.2\.4\) may carry the traffic/);
  t.match(r.findings[0]!.command, /route create .*--name subnet-10-20-0-0-24-to-vnetlocal --address-prefix 10\.20\.0\.0\/24 --next-hop-type VnetLocal$/);
});

t.test('forced tunnelling (0.0.0.0/0 to a firewall): the more specific required route is added; an exact wrong route is updated', async (t) => {
  const tunnel = await check({ nsg: 'nsg-legacy.json', rt: 'rt-legacy-forced-tunnel.json' });
  const f = byId(tunnel, 'UDR-002');
  t.equal(f.length, 1);
  t.match(f[0]!.evidence, /follows default-to-firewall \(0\.0\.0\.0\/0 -> VirtualAppliance 10\.20\.2\.4\): no more specific route exists/);
  t.match(f[0]!.command, /route create .*--name mi-sqlmanagement-internet --address-prefix SqlManagement --next-hop-type Internet$/);
  const exact = await check({ nsg: 'nsg-legacy.json', rt: 'rt-legacy-wrong-hop.json' });
  t.same(exact.findings.map((x) => [x.id, x.command]),
    [['UDR-002', 'az network route-table route update --resource-group rg-sqlmi --route-table-name rt-sqlmi --name mi-storage-internet --next-hop-type Internet']]);
});

t.test('text output: the reason and the command for the route that takes the traffic', async (t) => {
  const run = await runCommand(checkNetwork, ['--subnet-file', F('subnet.json'), '--nsg-file', F('nsg-current.json'),
    '--route-table-file', F('rt-current-inner-nva.json')]);
  t.equal(run.code, 1);
  const lines = run.stdout.split('\n');
  t.ok(lines.includes('    run:  az network route-table route delete --resource-group rg-sqlmi --route-table-name rt-sqlmi --name inspect-10-20-0-32-27'));
  t.ok(lines.some((l) => /^Architecture: current \(auto: platform rules /.test(l)));
});

t.test('detectArchitecture: what is and is not evidence', async (t) => {
  const { detectArchitecture } = await import('../../src/network/architecture.js');
  const { parseNsg, parseRouteTable } = await import('../../src/network/arm.js');
  const nsg = (rules: Array<[string, string, string, string]>) => parseNsg({ name: 'n', type: 'Microsoft.Network/networkSecurityGroups',
    securityRules: rules.map(([name, direction, ports, access], i) => ({ name, priority: 100 + i, direction, access, protocol: 'Tcp',
      sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*', destinationPortRange: ports })) });
  const rt = (routes: Array<[string, string, string]>) => parseRouteTable({ name: 'r', type: 'Microsoft.Network/routeTables',
    routes: routes.map(([name, addressPrefix, nextHopType]) => ({ name, addressPrefix, nextHopType })) });
  // A rule that admits every port, or nearly, says nothing about the configuration.
  t.equal(detectArchitecture(nsg([['allow_all_in', 'Inbound', '*', 'Allow'], ['wide', 'Inbound', '1-65535', 'Allow']]), undefined).architecture, 'current');
  // A deny of the management ports is no evidence either; an allow of 9000-9003 is.
  t.equal(detectArchitecture(nsg([['deny_mgmt', 'Inbound', '9000-9003', 'Deny']]), undefined).architecture, 'current');
  t.match(detectArchitecture(nsg([['mgmt', 'Inbound', '9000-9003', 'Allow']]), undefined),
    { architecture: 'legacy', reason: /rule mgmt admits management ports 9000\/9003/ });
  t.match(detectArchitecture(nsg([['out', 'Outbound', '12000', 'Allow']]), undefined), { architecture: 'legacy', reason: /rule out admits port 12000 outbound/ });
  t.match(detectArchitecture(nsg([['mi_subnet-outbound', 'Outbound', '*', 'Allow']]), undefined), { architecture: 'legacy', reason: /legacy rule name/ });
  // Routes: the legacy names and management tags are evidence, a current subnet route is not.
  t.equal(detectArchitecture(undefined, rt([['subnet-10-0-0-0-24-to-vnetlocal', '10.0.0.0/24', 'VnetLocal']])).architecture, 'current');
  t.match(detectArchitecture(undefined, rt([['to-mgmt', 'SqlManagement', 'Internet']])), { architecture: 'legacy', reason: /routes SqlManagement \(management traffic\)/ });
  t.match(detectArchitecture(undefined, rt([['mi-13-64-11-nexthop-internet', '13.64.0.0/11', 'Internet']])), { architecture: 'legacy' });
  // A platform subnet route decides over an obsolete legacy route the platform has not removed yet.
  t.match(detectArchitecture(undefined, rt([['Microsoft.Sql-managedInstances_UseOnly_subnet-10-0-0-0-24-to-vnetlocal', '10.0.0.0/24', 'VnetLocal'],
    ['Microsoft.Sql-managedInstances_UseOnly_mi-sqlmanagement-internet', 'SqlManagement', 'Internet']])),
  { architecture: 'current', reason: /^auto: platform route .*; ignored, .*mi-sqlmanagement-internet/ });
});

t.test('a regional tag route to an appliance fails two requirements, is reported once and set to the required hop', async (t) => {
  const r = await check({ nsg: 'nsg-legacy.json', rt: 'rt-legacy-storage-region-nva.json' });
  t.same(r.findings.map((f) => [f.id, f.command]), [['UDR-002',
    'az network route-table route update --resource-group rg-sqlmi --route-table-name rt-sqlmi --name mi-storage-westeurope-internet --next-hop-type Internet']]);
  t.match(checkLine(r, 'UDR mi-storage-internet'), { status: 'fail', detail: /^Storage\.westeurope of Storage goes to VirtualAppliance via mi-storage-westeurope-internet/ });
  t.match(checkLine(r, 'UDR mi-storage-westeurope-internet'), { status: 'fail' });
});
