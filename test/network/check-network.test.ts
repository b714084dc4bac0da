// check-network against the fixture corpus: each case's exact list of finding ids.
import t from 'tap';
import { join } from 'node:path';
import { checkNetwork } from '../../src/cli/check-network.js';
import type { NetworkCheckReport } from '../../src/network/types.js';
import { runCommand } from '../helpers/network-cli.js';

const F = (name: string): string => join(import.meta.dirname, '..', 'fixtures', 'network', name);
const REGIONS = ['--region', 'westeurope', '--region-pair', 'northeurope'];

interface Case {
  readonly name: string;
  readonly subnet?: string;
  readonly nsg?: string;
  readonly rt?: string;
  readonly vnet?: string;
  readonly extra?: readonly string[];
  readonly architecture: 'legacy' | 'current';
  /** Finding ids, sorted. */
  readonly ids: readonly string[];
}

const legacy = { nsg: 'nsg-legacy.json', rt: 'rt-legacy.json', architecture: 'legacy' as const };
const current = { nsg: 'nsg-current.json', rt: 'rt-current.json', architecture: 'current' as const };

const CASES: readonly Case[] = [
  { name: 'compliant legacy (service-aided table)', ...legacy, ids: [] },
  { name: 'compliant legacy (original table, Any sources, 0.0.0.0/0 -> Internet)', ...legacy,
    nsg: 'nsg-legacy-original.json', rt: 'rt-legacy-original.json', ids: [] },
  { name: 'compliant legacy as written by the intent policy (platform names with management ports)', ...legacy,
    nsg: 'nsg-legacy-service-aided.json', ids: [] },
  { name: 'compliant current', ...current, ids: [] },
  { name: 'missing management inbound', ...legacy, nsg: 'nsg-legacy-no-management-in.json', ids: ['NSG-001'] },
  { name: 'missing CorpnetSaw inbound', ...legacy, nsg: 'nsg-legacy-no-corpnetsaw-in.json', ids: ['NSG-001'] },
  { name: 'missing CorpnetPublic inbound', ...legacy, nsg: 'nsg-legacy-no-corpnetpublic-in.json', ids: ['NSG-001'] },
  { name: 'missing mi_subnet inbound (deny_all_inbound shadows only a default rule)', ...legacy,
    nsg: 'nsg-legacy-no-misubnet-in.json', ids: ['NSG-001'] },
  { name: 'missing health_probe inbound', ...legacy, nsg: 'nsg-legacy-no-health-probe-in.json', ids: ['NSG-001'] },
  { name: 'missing management outbound (443, 12000 and the original 80)', ...legacy,
    nsg: 'nsg-legacy-no-management-out.json', ids: ['NSG-001', 'NSG-008'] },
  { name: 'missing mi_subnet outbound', ...legacy, nsg: 'nsg-legacy-no-misubnet-out.json', ids: ['NSG-001'] },
  { name: 'management allows shadowed by a deny from Internet', ...legacy, nsg: 'nsg-legacy-shadowed.json',
    ids: ['NSG-002', 'NSG-002', 'NSG-002'] },
  { name: 'deny of two public ranges partially overlaps the management sources', ...legacy, nsg: 'nsg-legacy-partial-deny.json',
    ids: ['NSG-004', 'NSG-004', 'NSG-004'] },
  { name: 'a deny of all TCP inside the VNet certainly blocks part of mi_subnet inbound', ...legacy, nsg: 'nsg-legacy-deny-vnet-tcp.json',
    ids: ['NSG-010'] },
  { name: 'wrong port list (1452 missing)', ...legacy, nsg: 'nsg-legacy-wrong-ports.json', ids: ['NSG-003'] },
  { name: 'management ports split over two rules', ...legacy, nsg: 'nsg-legacy-split-management.json', ids: ['NSG-005'] },
  { name: 'mi_subnet rule restricted to Tcp', ...legacy, nsg: 'nsg-legacy-misubnet-tcp-only.json', ids: ['NSG-001'] },
  { name: 'replication without port 445', ...legacy, extra: ['--replication'], ids: ['NSG-001'] },
  { name: 'replication without 445, original table allows Any outbound', ...legacy, nsg: 'nsg-legacy-original.json',
    rt: 'rt-legacy-original.json', extra: ['--replication'], ids: ['NSG-001'] },
  { name: 'missing route', ...legacy, rt: 'rt-legacy-no-sqlmanagement.json', ids: ['UDR-001'] },
  { name: 'wrong next hop', ...legacy, rt: 'rt-legacy-wrong-hop.json', ids: ['UDR-002'] },
  { name: 'forced tunnelling: 0.0.0.0/0 to an appliance and no SqlManagement route', ...legacy,
    rt: 'rt-legacy-forced-tunnel.json', ids: ['UDR-002'] },
  { name: 'subnet too small (/29)', ...legacy, subnet: 'subnet-small.json', ids: ['SUBNET-004'] },
  { name: 'subnet below the recommended size (/28)', ...legacy, subnet: 'subnet-28.json', ids: ['SUBNET-005'] },
  { name: 'current needs 32 addresses (/28)', ...current, subnet: 'subnet-28.json', ids: ['SUBNET-004'] },
  { name: 'service endpoint on a delegated subnet (legacy: the service-aided configuration supports them)', ...legacy,
    subnet: 'subnet-service-endpoint.json', ids: [] },
  { name: 'service endpoint on an undelegated subnet (legacy)', ...legacy, subnet: 'subnet-not-delegated-service-endpoint.json',
    ids: ['SUBNET-001', 'SUBNET-003'] },
  { name: 'service endpoint present (current: allowed)', ...current, subnet: 'subnet-service-endpoint.json', ids: [] },
  { name: 'not delegated', ...legacy, subnet: 'subnet-not-delegated.json', ids: ['SUBNET-001'] },
  { name: 'NAT gateway', ...current, subnet: 'subnet-nat.json', ids: ['SUBNET-006'] },
  { name: 'IPv6 prefix (current)', ...current, subnet: 'subnet-ipv6.json', vnet: 'vnet-dual-stack.json', ids: ['SUBNET-010'] },
  { name: 'no NSG attached', ...legacy, subnet: 'subnet-no-nsg.json', ids: ['SUBNET-007'] },
  { name: 'exported NSG is not the attached one', ...legacy, subnet: 'subnet-other-nsg.json', ids: ['SUBNET-009'] },
  { name: 'custom DNS without 168.63.129.16', ...legacy, vnet: 'vnet-custom-dns.json', ids: ['VNET-001'] },
  { name: 'custom DNS including 168.63.129.16', ...legacy, vnet: 'vnet-custom-dns-azure.json', ids: [] },
  { name: 'current: healthprobe-in gone behind a custom deny-all', ...current, nsg: 'nsg-current-no-healthprobe-deny.json',
    ids: ['NSG-001', 'NSG-007'] },
  { name: 'current: platform rule renamed, same effect', ...current, nsg: 'nsg-current-renamed.json', ids: ['NSG-007'] },
  { name: 'current: internal-in changed to Tcp behind a deny-all', ...current, nsg: 'nsg-current-changed.json',
    ids: ['NSG-001', 'NSG-006'] },
  { name: 'current: route missing', ...current, rt: 'rt-current-empty.json', ids: ['UDR-001'] },
  // Auto-detection: no legacy evidence means the current configuration, which new deployments get.
  { name: 'auto: an NSG with no managed instance rule at all is checked as current', ...current, nsg: 'nsg-no-mi-rules.json',
    rt: 'rt-current-empty.json', ids: ['NSG-007', 'NSG-007', 'NSG-007', 'NSG-007', 'UDR-001'] },
  { name: 'auto: only the subnet exported is checked as current', architecture: 'current', ids: [] },
  { name: 'current: platform rules named as the platform names them (range and version appended)', ...current,
    nsg: 'nsg-current-suffixed.json', ids: [] },
  { name: 'auto: platform rules decide over a leftover legacy rule', ...current, nsg: 'nsg-current-leftover-legacy.json', ids: [] },
  { name: 'auto: legacy routes alone mean legacy', architecture: 'legacy', rt: 'rt-legacy.json', ids: [] },
  // Longest prefix match: the route that takes the traffic is the one to fix.
  { name: 'current: a /27 inside the subnet to an appliance', ...current, rt: 'rt-current-inner-nva.json', ids: ['UDR-002'] },
  { name: 'current: only a /27 inside the subnet, no subnet route', ...current, rt: 'rt-current-inner-nva-only.json', ids: ['UDR-001', 'UDR-002'] },
  { name: 'current: a route wider than the subnet to an appliance, no subnet route', ...current, rt: 'rt-current-wide-nva.json', ids: ['UDR-001'] },
  { name: 'legacy: a /27 inside the subnet to an appliance', ...legacy, rt: 'rt-legacy-inner-nva.json', ids: ['UDR-002'] },
  // Failover groups: TCP 5022 and 11000-11999 to and from the partner's subnet (FAILOVER_GROUP_PORT, REDIRECT_PORTS).
  { name: 'failover partner: the default rules admit it', ...current, extra: ['--failover-partner', '10.30.0.0/24'], ids: [] },
  { name: 'failover partner behind a deny-all both ways', ...current, nsg: 'nsg-current-deny-all.json',
    extra: ['--failover-partner', '10.30.0.0/24'], ids: ['NSG-001', 'NSG-001'] },
  { name: 'failover partner with its own rules in front of the deny-all', ...current, nsg: 'nsg-current-failover.json',
    extra: ['--failover-partner', '10.30.0.0/24'], ids: [] },
  // The legacy fixture denies everything else at 4096 and admits 11000-11999 inbound in a rule of its own.
  { name: 'failover partner (legacy configuration, behind deny-all rules)', ...legacy, extra: ['--failover-partner', '10.30.0.0/24'],
    ids: ['NSG-001', 'NSG-003'] },
];

for (const c of CASES) {
  t.test(c.name, async (t) => {
    const argv = ['--subnet-file', F(c.subnet ?? 'subnet.json'), '--json', ...REGIONS, ...(c.extra ?? [])];
    if (c.nsg) argv.push('--nsg-file', F(c.nsg));
    if (c.rt) argv.push('--route-table-file', F(c.rt));
    argv.push('--vnet-file', F(c.vnet ?? 'vnet.json'));
    const run = await runCommand(checkNetwork, argv);
    const report = JSON.parse(run.stdout) as NetworkCheckReport;
    t.equal(report.kind, 'check-network');
    t.equal(report.schemaVersion, 1);
    t.equal(report.architecture, c.architecture, `auto-detected ${report.architectureReason}`);
    t.same(report.findings.map((f) => f.id).sort(), c.ids, report.findings.map((f) => `${f.id}: ${f.evidence}`).join('\n'));
    const critical = report.findings.some((f) => f.severity === 'critical');
    t.equal(run.code, critical ? 1 : 0, 'exit code');
    t.equal(report.verdict, critical ? 'failing' : report.findings.some((f) => f.severity === 'warning') ? 'degraded' : 'healthy');
    for (const f of report.findings) {
      t.match(f, { id: String, severity: String, title: String, evidence: String, fix: String, ref: String });
      if (['NSG-001', 'NSG-008'].includes(f.id)) t.match(f.command, /^az network nsg rule create /, `${f.id} carries the az command`);
      if (f.id === 'UDR-001') t.match(f.command, /^az network route-table route create /);
      if (f.id === 'UDR-002') t.match(f.command, /^az network route-table route (update|create|delete) /, 'UDR-002 carries the az command');
      t.notMatch(f.ref, /seed:|REFERENCES|DESIGN\.md/, `${f.id} cites public documents`);
    }
  });
}

// One cause, one critical: an NSG or route table the subnet does not use filters or carries none of its traffic,
// so its checks are not reached, because of the subnet finding that says so (the causedBy vocabulary of diagnose).
t.test('an NSG and a route table not attached to the subnet: their checks are not reached', async (t) => {
  const run = await runCommand(checkNetwork, ['--subnet-file', F('subnet-bare.json'), '--nsg-file', F('nsg-deny-all.json'),
    '--route-table-file', F('rt-current-empty.json'), '--vnet-file', F('vnet.json'), '--json']);
  const report = JSON.parse(run.stdout) as NetworkCheckReport;
  t.equal(run.code, 1);
  t.same(report.findings.map((f) => f.id), ['SUBNET-007', 'SUBNET-008'], 'subnet findings only, in path order');
  t.match(report.findings[0]!.evidence, /the NSG in --nsg-file \(nsg-sqlmi\) is not attached to it/);
  t.match(report.findings[0]!.command, /--network-security-group \S+nsg-sqlmi/);
  t.match(report.findings[1]!.evidence, /the route table in --route-table-file \(rt-sqlmi\) is not attached to it/);
  const nsgLine = report.checks.find((c) => c.name === 'NSG rules');
  t.match(nsgLine, { status: 'skip', skipped: 'not-reached', causedBy: 'SUBNET-007',
    detail: /^not reached: the NSG in --nsg-file \(nsg-sqlmi\) is not attached to subnet snet-sqlmi, so its rules filter none of the subnet's traffic \(SUBNET-007\)$/ });
  t.match(report.checks.find((c) => c.name === 'Routes'), { status: 'skip', skipped: 'not-reached', causedBy: 'SUBNET-008' });
  t.notOk(report.checks.some((c) => c.name.startsWith('NSG ') && c.name !== 'NSG rules' && c.name !== 'NSG attached'), 'no rule was evaluated');
  t.notOk(report.checks.some((c) => c.name.startsWith('UDR ')), 'no route was evaluated');

  const text = await runCommand(checkNetwork, ['--subnet-file', F('subnet-bare.json'), '--nsg-file', F('nsg-deny-all.json'),
    '--route-table-file', F('rt-current-empty.json'), '--no-color']);
  t.match(text.stdout, /\[SKIP\] NSG rules +not reached: .*\(SUBNET-007\)/);
  t.notMatch(text.stdout, /deny_all_inbound/, 'the unattached NSG\'s deny-all is not blamed');
  t.match(text.stdout, /Verdict: FAILING +2 critical/);
});

t.test('no NSG attached and none exported: NSG rules not reached because of SUBNET-007', async (t) => {
  const run = await runCommand(checkNetwork, ['--subnet-file', F('subnet-bare.json'), '--json']);
  const report = JSON.parse(run.stdout) as NetworkCheckReport;
  t.same(report.findings.map((f) => f.id), ['SUBNET-007', 'SUBNET-008']);
  t.match(report.checks.find((c) => c.name === 'NSG rules'), { skipped: 'not-reached', causedBy: 'SUBNET-007',
    detail: 'not reached: subnet snet-sqlmi has no network security group (SUBNET-007)' });
  // An attached NSG that was not exported is simply not asked for.
  const given = JSON.parse((await runCommand(checkNetwork, ['--subnet-file', F('subnet.json'), '--json'])).stdout) as NetworkCheckReport;
  t.match(given.checks.find((c) => c.name === 'NSG rules'), { status: 'skip', skipped: 'off', detail: 'no --nsg-file given' });
});

t.test('an exported NSG that is not the attached one: its rules are not checked (SUBNET-009)', async (t) => {
  const run = await runCommand(checkNetwork, ['--subnet-file', F('subnet-other-nsg.json'), '--nsg-file', F('nsg-deny-all.json'),
    '--route-table-file', F('rt-current.json'), '--json']);
  const report = JSON.parse(run.stdout) as NetworkCheckReport;
  t.same(report.findings.map((f) => f.id), ['SUBNET-009'], report.findings.map((f) => f.evidence).join('\n'));
  t.equal(run.code, 0);
  t.match(report.checks.find((c) => c.name === 'NSG rules'), { skipped: 'not-reached', causedBy: 'SUBNET-009',
    detail: /the NSG in --nsg-file \(nsg-sqlmi\) is not the one attached to subnet snet-sqlmi \(nsg-other\)/ });
  t.match(report.checks.find((c) => c.name === 'UDR subnet-10-20-0-0-24-to-vnetlocal'), { status: 'pass' }, 'the attached route table is checked');
});

t.test('findings run along the configuration: subnet, NSG, routes', async (t) => {
  const run = await runCommand(checkNetwork, ['--subnet-file', F('subnet-28.json'), '--nsg-file', F('nsg-current-no-healthprobe-deny.json'),
    '--route-table-file', F('rt-current-empty.json'), '--json']);
  const report = JSON.parse(run.stdout) as NetworkCheckReport;
  t.same(report.findings.map((f) => f.id), ['SUBNET-004', 'NSG-001', 'UDR-001', 'NSG-007']);
});

t.test('a failover partner\'s ports come from src/requirements/platform.ts, and the fix names the partner', async (t) => {
  const argv = ['--subnet-file', F('subnet.json'), '--nsg-file', F('nsg-current-deny-all.json'), '--route-table-file', F('rt-current.json'),
    '--failover-partner', '10.30.0.0/24', '--json'];
  const report = JSON.parse((await runCommand(checkNetwork, argv)).stdout) as NetworkCheckReport;
  const [inbound, outbound] = report.findings.filter((f) => f.id === 'NSG-001');
  t.match(inbound?.evidence, /no rule admits Inbound Tcp PARTNER SUBNET 10\.30\.0\.0\/24 -> MI SUBNET 10\.20\.0\.0\/24 ports 5022, 11000-11999; the traffic reaches deny_all_inbound/);
  t.match(inbound?.command, /--source-address-prefixes 10\.30\.0\.0\/24 .*--destination-port-ranges 5022 11000-11999/);
  t.match(outbound?.evidence, /Outbound Tcp MI SUBNET 10\.20\.0\.0\/24 -> PARTNER SUBNET 10\.30\.0\.0\/24/);
  t.match(inbound?.ref, /failover-group-configure-sql-mi/);
  const off = JSON.parse((await runCommand(checkNetwork, argv.filter((a, i) => a !== '--failover-partner' && argv[i - 1] !== '--failover-partner'))).stdout) as NetworkCheckReport;
  t.same(off.findings.map((f) => f.id), [], 'without --failover-partner the partner traffic is not required');
  t.match(off.checks.find((c) => c.name.startsWith('NSG failover group')), { name: 'NSG failover group (5022, 11000-11999)', skipped: 'off' });
});
