// check-network's command line: help, usage errors naming the file or flag, stdin, text output.
import t from 'tap';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkNetwork, CHECK_NETWORK_USAGE } from '../../src/cli/check-network.js';
import { UsageError } from '../../src/cli/io.js';
import { runCommand } from '../helpers/network-cli.js';

const F = (name: string): string => join(import.meta.dirname, '..', 'fixtures', 'network', name);

t.test('--help prints usage and exits 0', async (t) => {
  const run = await runCommand(checkNetwork, ['--help']);
  t.equal(run.code, 0);
  t.equal(run.stdout, CHECK_NETWORK_USAGE);
  t.match(run.stdout, /--subnet-file F/);
  t.match(run.stdout, /--architecture legacy\|current\|auto/);
});

t.test('usage errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'miprobe-cn-'));
  const bad = join(dir, 'nsg.json');
  writeFileSync(bad, '{ "securityRules": [ ');
  const empty = join(dir, 'empty.json');
  writeFileSync(empty, '');
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown flag', ['--subnet-file', F('subnet.json'), '--bogus'], /check-network: .*'--bogus'/],
    ['positional', ['subnet.json'], /check-network: .*subnet\.json/],
    ['no subnet file', ['--nsg-file', F('nsg-legacy.json')], /--subnet-file is required/],
    ['missing file', ['--subnet-file', join(dir, 'nope.json')], /--subnet-file .*nope\.json: cannot read it \(ENOENT\)/],
    ['directory', ['--subnet-file', dir], /--subnet-file .*: not a regular file/],
    ['invalid JSON', ['--subnet-file', F('subnet.json'), '--nsg-file', bad], /--nsg-file .*nsg\.json: not valid JSON/],
    ['empty file', ['--subnet-file', empty], /--subnet-file .*empty\.json: the file is empty/],
    ['route table given as NSG', ['--subnet-file', F('subnet.json'), '--nsg-file', F('rt-legacy.json')],
      /--nsg-file .*rt-legacy\.json: \$\.type: is "Microsoft\.Network\/routeTables", expected "Microsoft\.Network\/networkSecurityGroups"/],
    ['NSG given as subnet', ['--subnet-file', F('nsg-legacy.json')], /--subnet-file .*: \$\.type: is "Microsoft\.Network\/networkSecurityGroups"/],
    ['bad architecture', ['--subnet-file', F('subnet.json'), '--architecture', 'modern'], /--architecture modern is not one of legacy, current, auto/],
    ['bad region', ['--subnet-file', F('subnet.json'), '--region', 'West Europe'], /--region West Europe is not an Azure region name/],
    ['two stdin files', ['--subnet-file', '-', '--nsg-file', '-'], /only one file can be read from stdin/],
  ];
  for (const [name, argv, message] of cases) {
    const err = await runCommand(checkNetwork, argv).then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof UsageError, `${name}: a UsageError`);
    t.match((err as Error).message, message, name);
  }
  // A rule with a malformed port names the JSON path.
  const nsg = JSON.parse(readFileSync(F('nsg-legacy.json'), 'utf8')) as { securityRules: Array<Record<string, unknown>> };
  nsg.securityRules[2]!.destinationPortRanges = ['9000', 'ninety'];
  const malformed = join(dir, 'malformed.json');
  writeFileSync(malformed, JSON.stringify(nsg));
  await t.rejects(runCommand(checkNetwork, ['--subnet-file', F('subnet.json'), '--nsg-file', malformed]),
    /--nsg-file .*malformed\.json: \$\.securityRules\[2\]\.destinationPortRanges\[1\]: "ninety" is not a port/);
});

t.test('a file from stdin', async (t) => {
  const run = await runCommand(checkNetwork, ['--subnet-file', F('subnet.json'), '--nsg-file', '-', '--json'],
    readFileSync(F('nsg-legacy-no-health-probe-in.json'), 'utf8'));
  t.equal(run.code, 1);
  const report = JSON.parse(run.stdout) as { findings: Array<{ id: string; evidence: string }> };
  t.same(report.findings.map((f) => f.id), ['NSG-001']);
  t.match(report.findings[0]!.evidence, /AzureLoadBalancer -> MI SUBNET 10\.20\.0\.0\/24.*deny_all_inbound \(priority 4096, Deny\)/);
});

t.test('text output: marks, evidence, az command, verdict', async (t) => {
  const run = await runCommand(checkNetwork, ['--subnet-file', F('subnet.json'), '--nsg-file', F('nsg-legacy-no-management-in.json'),
    '--route-table-file', F('rt-legacy-no-sqlmanagement.json'), '--region', 'westeurope', '--region-pair', 'northeurope']);
  t.equal(run.code, 1);
  const lines = run.stdout.split('\n');
  // The same style as diagnose: [FAIL] marks, seen/fix/run/ref, the verdict in capitals.
  t.ok(lines.some((l) => /^ {2}\[FAIL\] NSG management inbound from SqlManagement +denied by deny_all_inbound \(4096\)$/.test(l)), 'fail line');
  t.ok(lines.some((l) => /^ {2}\[PASS\] NSG health_probe inbound from AzureLoadBalancer +allowed by allow_health_probe_inbound \(170\)$/.test(l)));
  t.ok(lines.some((l) => /^ {2}\[FAIL\] UDR mi-sqlmanagement-internet +no route for SqlManagement$/.test(l)));
  t.ok(lines.some((l) => /^ {4}seen: /.test(l)), 'evidence as "seen:"');
  t.ok(lines.includes('    run:  az network nsg rule create --resource-group rg-sqlmi --nsg-name nsg-sqlmi --name allow_management_inbound '
    + "--priority 110 --direction Inbound --access Allow --protocol Tcp --source-address-prefixes SqlManagement --source-port-ranges '*' "
    + '--destination-address-prefixes 10.20.0.0/24 --destination-port-ranges 1438 1440 1452 9000 9003'), 'NSG az command');
  t.ok(lines.includes('    run:  az network route-table route create --resource-group rg-sqlmi --route-table-name rt-sqlmi '
    + '--name mi-sqlmanagement-internet --address-prefix SqlManagement --next-hop-type Internet'), 'route az command');
  t.equal(lines.filter((l) => l.startsWith('Verdict: ')).join(), 'Verdict: FAILING  2 critical, 0 warning, 0 info');
});

t.test('legacy regional routes are skipped without --region, with the reason', async (t) => {
  const run = await runCommand(checkNetwork, ['--subnet-file', F('subnet.json'), '--route-table-file', F('rt-legacy.json'), '--json']);
  const report = JSON.parse(run.stdout) as { checks: Array<{ name: string; status: string; detail: string }> };
  const skipped = report.checks.filter((c) => c.status === 'skip' && c.name.startsWith('UDR'));
  t.equal(skipped.length, 6);
  t.ok(skipped.every((c) => /pass --region(-pair)? to check this route/.test(c.detail)));
  t.equal(run.code, 0);
});

t.test('shadowing fixes choose distinct free priorities in front of the deny', async (t) => {
  const run = await runCommand(checkNetwork, ['--subnet-file', F('subnet.json'), '--nsg-file', F('nsg-legacy-shadowed.json'), '--json']);
  const report = JSON.parse(run.stdout) as { findings: Array<{ id: string; evidence: string; command: string }> };
  const prios = report.findings.map((f) => /--priority (\d+)/.exec(f.command)?.[1]);
  t.same(prios, ['100', '101', '102']);
  t.match(report.findings[0]!.evidence, /deny_internet_management \(priority 105, Deny\) .* before allow_management_inbound \(priority 110, Allow\)/);
});
