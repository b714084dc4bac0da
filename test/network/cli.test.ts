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
    ['bad failover partner', ['--subnet-file', F('subnet.json'), '--failover-partner', '10.30.0.0/33'],
      /--failover-partner 10\.30\.0\.0\/33 is not an IPv4 address prefix/],
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

// Hostile or broken exports (issue 14): exit 2 with the path of the field at fault, quickly; never
// "internal error" (exit 3), a stack, or a multi-line message. The real executable runs them.
t.test('deeply nested or wrongly typed exports: exit 2 naming the field', async (t) => {
  const { runReal } = await import('../fuzz/real-cli.js');
  const dir = mkdtempSync(join(tmpdir(), 'miprobe-cn-hostile-'));
  const nsg = JSON.parse(readFileSync(F('nsg-legacy.json'), 'utf8')) as { securityRules: Array<Record<string, unknown>> };
  const subnet = readFileSync(F('subnet.json'), 'utf8');
  const deep = (n: number): string => `${'['.repeat(n)}1${']'.repeat(n)}`;
  const marker = '"__DEEP__"';
  const write = (name: string, doc: unknown, depth = 10_000): string => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(doc).replace(marker, deep(depth)));
    return path;
  };
  const withRule = (change: Record<string, unknown>): unknown => ({ ...nsg, securityRules: [{ ...nsg.securityRules[0], ...change }, ...nsg.securityRules.slice(1)] });
  const nameDeep = write('nsg-name.json', withRule({ name: '__DEEP__' }));
  t.ok(readFileSync(nameDeep).length > 20_000, 'the export is over 20 KB, as in the issue');
  const cases: Array<[string, string, string, RegExp]> = [
    ['rule name a deep array', 'nsg-file', nameDeep,
      /--nsg-file .*nsg-name\.json: \$\.securityRules\[0\]\.name: expected a non-empty string, found an array of 1 item, nested more than 64 levels deep/],
    ['rule priority a deep array', 'nsg-file', write('nsg-priority.json', withRule({ priority: '__DEEP__' })),
      /--nsg-file .*: \$\.securityRules\[0\]\.priority: expected an integer 100-4096 .*found an array of 1 item, nested more than 64 levels deep/],
    ['an unknown field nested deep', 'nsg-file', write('nsg-extra.json', withRule({ extra: { inner: '__DEEP__' } })),
      /--nsg-file .*: \$\.securityRules\[0\]\.extra\.inner: nested more than 64 levels deep/],
    ['priority a string', 'nsg-file', write('nsg-type.json', withRule({ priority: 'high' })),
      /--nsg-file .*: \$\.securityRules\[0\]\.priority: expected an integer .*found "high"/],
    ['securityRules an object', 'nsg-file', write('nsg-rules.json', { ...nsg, securityRules: { a: 1 } }),
      /--nsg-file .*: \$\.securityRules: expected an array/],
    ['a long string', 'nsg-file', write('nsg-long.json', withRule({ direction: 'x'.repeat(100_000) })),
      /--nsg-file .*: \$\.securityRules\[0\]\.direction: expected Inbound or Outbound, found "x{60}"… \(100000 characters\)/],
    ['a megabyte-long rule name', 'nsg-file', write('nsg-long-name.json', withRule({ name: 'n'.repeat(1_000_000) })),
      /--nsg-file .*: \$\.securityRules\[0\]\.name: a string of 1000000 characters; Azure names and ids are far shorter/],
    ['route name a deep object', 'route-table-file', (() => {
      const path = join(dir, 'rt.json');
      const rt = JSON.parse(readFileSync(F('rt-legacy.json'), 'utf8')) as { routes: Array<Record<string, unknown>> };
      writeFileSync(path, JSON.stringify({ ...rt, routes: [{ ...rt.routes[0], name: '__DEEP__' }] }).replace(marker, `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`));
      return path;
    })(), /--route-table-file .*rt\.json: \$\.routes\[0\]\.name: expected a non-empty string, found an object with "a"/],
    ['subnet prefix list deep', 'subnet-file', write('subnet-deep.json', { ...JSON.parse(subnet) as object, addressPrefixes: '__DEEP__' }, 100_000),
      /--subnet-file .*subnet-deep\.json: \$\.addressPrefixes: expected an array of strings/],
    ['vnet dns servers deep', 'vnet-file', write('vnet-deep.json', { ...JSON.parse(readFileSync(F('vnet.json'), 'utf8')) as object, tags: { a: '__DEEP__' } }),
      /--vnet-file .*vnet-deep\.json: \$\.tags\.a: nested more than 64 levels deep/],
    ['a syntax error across lines', 'nsg-file', (() => {
      const path = join(dir, 'nsg-syntax.json');
      writeFileSync(path, '{\n  "securityRules": [\n    }\n  ]\n}\n');
      return path;
    })(), /--nsg-file .*nsg-syntax\.json: not valid JSON \(/],
  ];
  const runs = await Promise.all(cases.map(([, flag, path]) =>
    runReal(['check-network', ...(flag === 'subnet-file' ? [] : ['--subnet-file', F('subnet.json')]), `--${flag}`, path])));
  cases.forEach(([label, , , pattern], i) => {
    const r = runs[i] as { code: number; stdout: string; stderr: string };
    t.equal(r.code, 2, `${label}: exit 2`);
    t.match(r.stderr, pattern, `${label}: names the field`);
    const lines = r.stderr.trimEnd().split('\n');
    t.equal(lines.length, 2, `${label}: the problem and the fix, one line each (${JSON.stringify(r.stderr.slice(0, 300))})`);
    t.match(lines[1], /^ {2}fix: export it with: az network /, `${label}: the fix`);
    t.notMatch(r.stderr, /internal error|Maximum call stack|\n\s+at /, `${label}: no internal error, no stack`);
    t.equal(r.stdout, '', `${label}: nothing on stdout`);
  });
});

t.test('--no-color: accepted, as diagnose and demo accept it; no colour even on a terminal', async (t) => {
  const argv = ['--subnet-file', F('subnet.json'), '--nsg-file', F('nsg-legacy-no-health-probe-in.json')];
  let coloured = '';
  let plain = '';
  const tty = (sink: (s: string) => void) => ({ stdout: { isTTY: true, write: (s: string) => { sink(s); return true; } },
    stderr: { write: () => true }, env: {} });
  t.equal(await checkNetwork(argv, tty((s) => { coloured += s; })), 1);
  t.equal(await checkNetwork([...argv, '--no-color'], tty((s) => { plain += s; })), 1);
  t.match(coloured, /\u001b\[31m\[FAIL\]/, 'a terminal gets colour without the flag');
  t.notMatch(plain, /\u001b\[/, 'no escape sequence with --no-color');
  t.equal(plain, coloured.replace(/\u001b\[\d+m/g, ''), 'the same text otherwise');
  t.match(CHECK_NETWORK_USAGE, /--no-color +no colour even on a terminal/);
});
