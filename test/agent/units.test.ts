// The agent's pure parts and shipped files: reportToMetrics over a report,
// exposition lines, sharding, the limiter, the alert rules under promtool,
// the Dockerfile and manifests (statically: no Docker engine here), the docs
// and the shipped configs.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { planInstances, shardOf } from '../../src/agent/instances.js';
import { Limiter } from '../../src/agent/limiter.js';
import cron from 'node-cron';
import { cronPeriodSeconds, jitterFraction, longestGapSeconds } from '../../src/agent/scheduler.js';
import { escapeHtml } from '../../src/agent/html.js';
import { loadConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import type { DiagnosisReport } from '../../src/diagnosis/report.js';
import { linesByFamily, renderFamilies } from '../../src/metrics/exposition.js';
import { INSTANCE_FAMILIES } from '../../src/metrics/families.js';
import { activeFindings, findingSamples, reportToMetrics, storeOutcome, instanceSamples, type Sample } from '../../src/metrics/report.js';
import { hasBinary, PROMTOOL } from '../helpers/prometheus.js';
import { FIXTURE_FQDN, fixtureChain, fixtureEndpoint, fixtureFinding, fixtureReport } from '../helpers/report-fixture.js';
import { groupOfCheck, sectionsOfGroups } from '../../src/checks/by-group.js';
import { CHECK_GROUPS } from '../../src/checks/groups.js';
import { CHECK_TABLE } from '../../src/checks/table.js';
import { createAgentMetrics } from '../../src/metrics/registry.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FQDN = FIXTURE_FQDN;

/** Every section filled, with what the metrics read varied from the healthy fixture. */
function report(over: Partial<DiagnosisReport> = {}): DiagnosisReport {
  const base = fixtureReport();
  const d = base.dataPath as NonNullable<DiagnosisReport['dataPath']>;
  return {
    ...base,
    // The same resolver twice (two lookups through it): one series.
    dns: [...base.dns, ...base.dns],
    dnsCoverage: [{ server: '10.0.0.2:53', checked: 16, failures: [{ name: 'live.com', code: 'DNS_NXDOMAIN' }], seconds: 0.1 }],
    dataPath: { ...d, public: { ...d, host: 'mi1.public.0a1b2c3d4e5f.database.windows.net', address: '20.2.2.2', port: 3342, ok: false, prelogin: undefined, tls: undefined,
      tcp: { ok: false, state: 'filtered', host: '20.2.2.2', port: 3342, code: 'TCP_TIMEOUT', message: 'no answer', connectSeconds: 5 } } },
    managementFirewall: { ok: true, applicable: true, address: '20.1.1.1', seconds: 1,
      ports: [{ port: 9000, state: 'open', seconds: 0.01 }, { port: 9003, state: 'filtered', code: 'TCP_TIMEOUT', seconds: 5 }] },
    revocation: {
      chains: [fixtureChain('gateway', ['good', 'revoked']), fixtureChain('https://portal.example/', ['good', 'unknown'])],
      endpoints: [fixtureEndpoint('http://crl.microsoft.com/a.crl', true), fixtureEndpoint('http://ocsp.digicert.com/', false), fixtureEndpoint('http://crl.microsoft.com/b.crl', false)],
      https: [{ ok: true, url: 'https://portal.example/', host: 'portal.example', address: '10.9.9.9', port: 443, seconds: 0.1, chainPem: [] }],
    },
    verdict: 'failing',
    findings: [fixtureFinding('DNS-009', 'critical', 'names'), fixtureFinding('REV-001', 'critical', 'chainRevocation'), fixtureFinding('MGMT-001', 'critical', 'managementPorts')],
    ...over,
  };
}

const pick = (samples: Sample[], family: string, labels: Record<string, string> = {}): number[] =>
  samples.filter((s) => s.family === family && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).map((s) => s.value);

t.test('reportToMetrics renders each section the checks ask for', async (t) => {
  const all = reportToMetrics(report(), { checks: new Set(CHECK_GROUPS), instance: FQDN });
  t.ok(all.every((s) => s.labels.instance === FQDN), 'every sample names the instance');
  t.same(pick(all, 'dnsSuccess'), [1], 'duplicate resolver answers give one series');
  t.same(pick(all, 'dnsCoverageFailures'), [1]);
  t.same(pick(all, 'managementPresent'), [1]);
  t.same(pick(all, 'portState', { endpoint: 'gateway', port: '1433', state: 'open' }), [1]);
  t.same(pick(all, 'portState', { endpoint: 'gateway', port: '1433', state: 'closed' }), [0]);
  t.same(pick(all, 'portState', { endpoint: 'public', port: '3342', state: 'filtered' }), [1], 'the public endpoint');
  t.same(pick(all, 'portState', { endpoint: 'management', port: '9000', state: 'open' }), [1]);
  t.same(pick(all, 'portState', { endpoint: 'management', port: '9003', state: 'filtered' }), [1]);
  t.equal(pick(all, 'portState', { endpoint: 'management' }).length, 10, 'five states per port');
  t.same(pick(all, 'phaseDuration', { phase: 'tls' }), [0.02]);
  t.same(pick(all, 'phaseDuration', { phase: 'login' }), [], 'no login, no login phase');
  t.same(pick(all, 'tlsExpiry', { endpoint: 'gateway' }), [Date.parse('2030-03-01T00:00:00.000Z') / 1000], 'leaf validTo wins');
  t.same(pick(all, 'tlsInfo', { version: 'TLSv1.2' }), [1]);
  t.same(pick(all, 'tlsTrusted'), [1]);
  t.same(pick(all, 'revocationStatus', { status: 'revoked' }), [1], 'the worst status of the served chain');
  t.same(pick(all, 'revocationStatus', { status: 'unknown' }), [0], 'an HTTPS endpoint\'s chain is not the instance\'s');
  t.same(pick(all, 'revocationStatus', { status: 'good' }), [0]);
  t.same(pick(all, 'revocationEndpointUp', { host: 'crl.microsoft.com' }), [0], 'a host is up only when all its URLs answered');
  t.same(pick(all, 'revocationEndpointUp', { host: 'ocsp.digicert.com' }), [0]);

  const dnsOnly = reportToMetrics(report(), { checks: new Set(['nameResolution']) });
  t.same([...new Set(dnsOnly.map((s) => s.family))].sort(), ['dnsAddresses', 'dnsCoverageFailures', 'dnsDuration', 'dnsSuccess', 'managementPresent'],
    'the sections of the name resolution rows (dns, managementEndpoint, dnsCoverage)');
  t.notOk(dnsOnly.some((s) => 'instance' in s.labels), '/probe samples carry no instance label');
  const bare = reportToMetrics(report({ dataPath: undefined, managementFirewall: undefined, revocation: undefined }), { checks: new Set(['dataPath', 'management', 'revocation']) });
  t.same(bare, [], 'absent sections give no samples and no error');
  const notApplicable = reportToMetrics(report({ managementFirewall: { ok: true, applicable: false, reason: 'no management endpoint' } }), { checks: new Set(['management']) });
  t.same(notApplicable, [], 'no management endpoint, no port series');
});

t.test('outcomes, ownership of findings, and the instance view', async (t) => {
  const dataPath = storeOutcome({ check: 'dataPath', completedAt: 100, durationSeconds: 0.5,
    report: report({ findings: [fixtureFinding('DNS-003', 'critical', 'names'), fixtureFinding('TCP-001', 'critical', 'gateway')] }) }, FQDN);
  const names = storeOutcome({ check: 'nameResolution', completedAt: 101, durationSeconds: 0.1, report: report({ findings: [fixtureFinding('DNS-005', 'warning', 'names')] }) }, FQDN);
  const failed = storeOutcome({ check: 'revocation', completedAt: 102, durationSeconds: 60, error: 'DEADLINE_EXCEEDED' }, FQDN);
  const view = { fqdn: FQDN, kind: 'vnet-local', labels: { team: 'a' }, outcomes: new Map([['dataPath', dataPath], ['nameResolution', names], ['revocation', failed]] as const) };
  t.same(activeFindings(view).map((f) => f.id).sort(), ['DNS-005', 'TCP-001'], 'name findings come from the name resolution run only');
  const samples = instanceSamples(view);
  t.same(pick(samples, 'checkSuccess', { check: 'dataPath' }), [0]);
  t.same(pick(samples, 'checkSuccess', { check: 'nameResolution' }), [1], 'a warning is not a failure');
  t.same(pick(samples, 'checkSuccess', { check: 'revocation' }), [0]);
  t.same(pick(samples, 'checkLastError', { check: 'revocation' }), [1]);
  t.same(pick(samples, 'checkLastCompleted', { check: 'nameResolution' }), [101]);
  t.same(pick(samples, 'instanceInfo', { team: 'a', kind: 'vnet-local' }), [1]);
  t.same(findingSamples([fixtureFinding('X-001', 'info'), fixtureFinding('X-001', 'info')], FQDN).length, 1, 'findings de-duplicated by id');
});

t.test('every check of the table is owned by a group that renders, schedules and draws it', async (t) => {
  for (const row of CHECK_TABLE) {
    t.equal(groupOfCheck(row.id), row.group, `${row.id} belongs to ${row.group}`);
    t.ok(sectionsOfGroups(new Set([row.group])).includes(row.section), `${row.group} renders ${row.section}`);
  }
  t.same([...new Set(CHECK_TABLE.map((r) => r.group))].sort(), [...CHECK_GROUPS].sort(), 'every group has rows; every row has a known group');
  const metrics = createAgentMetrics({ defaultMetrics: false });
  const text = await metrics.registry.metrics();
  for (const group of CHECK_GROUPS) t.match(text, `miprobe_checks_total{check="${group}"} 0`, `${group} counted from the start`);
});

t.test('exposition lines escape label values; every family is documented', async (t) => {
  const text = renderFamilies([linesByFamily([{ family: 'instanceInfo', labels: { instance: 'a', note: 'q"\\\nx' }, value: 1 }])]).toString('utf8');
  t.equal(text, `# HELP miprobe_instance_info ${INSTANCE_FAMILIES.instanceInfo.help}\n# TYPE miprobe_instance_info gauge\nmiprobe_instance_info{instance="a",note="q\\"\\\\\\nx"} 1\n`);
  const docs = await readFile(join(ROOT, 'docs/metrics.md'), 'utf8');
  // Two instances, one with a non-ASCII label: bytes in family order, UTF-8 intact.
  const two = renderFamilies([
    linesByFamily([{ family: 'finding', labels: { instance: 'b', id: 'X-1', severity: 'info' }, value: 1 }, { family: 'instanceInfo', labels: { instance: 'b', team: 'Zürich' }, value: 1 }]),
    linesByFamily([{ family: 'instanceInfo', labels: { instance: 'c' }, value: 1 }]),
  ]).toString('utf8');
  t.equal(two, `# HELP miprobe_instance_info ${INSTANCE_FAMILIES.instanceInfo.help}\n# TYPE miprobe_instance_info gauge\n`
    + 'miprobe_instance_info{instance="b",team="Zürich"} 1\nmiprobe_instance_info{instance="c"} 1\n'
    + `# HELP miprobe_finding ${INSTANCE_FAMILIES.finding.help}\n# TYPE miprobe_finding gauge\nmiprobe_finding{instance="b",id="X-1",severity="info"} 1\n`);
  for (const f of Object.values(INSTANCE_FAMILIES)) t.match(docs, `\`${f.name}\``, `${f.name} documented`);
  for (const name of ['miprobe_build_info', 'miprobe_checks_total', 'miprobe_scheduler_lag_seconds', 'miprobe_config_last_reload_successful']) t.match(docs, name);
  t.equal(escapeHtml(`<a href="x">'&`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
});

t.test('sharding is stable and partitions the instances', async (t) => {
  const names = Array.from({ length: 300 }, (_, i) => `mi${i}.z.database.windows.net`);
  t.equal(shardOf('MI1.z.database.windows.net', 7), shardOf('mi1.z.database.windows.net', 7), 'case does not matter');
  const base = configSchema.parse({ instances: names.map((fqdn) => ({ fqdn })) });
  const parts = [0, 1, 2].map((i) => planInstances({ ...base, agent: { ...base.agent, shard: `${i}/3` } }).map((p) => p.fqdn));
  t.equal(parts.flat().length, 300, 'every instance in exactly one shard');
  t.equal(new Set(parts.flat()).size, 300);
  t.ok(parts.every((p) => p.length > 70), `balanced: ${parts.map((p) => p.length).join('/')}`);
  t.throws(() => configSchema.parse({ agent: { shard: '3/3' } }));
  t.throws(() => planInstances(configSchema.parse({ instances: [{ fqdn: 'a.b.database.windows.net' }, { fqdn: 'A.b.database.windows.net' }] })), /listed twice/);
  const f = jitterFraction('mi1.z.database.windows.net', 'dataPath');
  t.ok(f >= 0 && f < 1 && f === jitterFraction('mi1.z.database.windows.net', 'dataPath'), 'jitter offset is stable');
  // Schedule periods from cron expressions: regular, and irregular (twice a day: the long gap is what staleness needs).
  const periods = (expr: string): [number, number] => {
    const task = cron.createTask(expr, () => undefined);
    try {
      return [cronPeriodSeconds(task), longestGapSeconds(task)];
    } finally {
      void task.destroy();
    }
  };
  t.same(periods('*/30 * * * * *'), [30, 30]);
  t.same(periods('0 */15 * * * *'), [900, 900]);
  t.equal(periods('0 0 9,17 * * *')[1], 16 * 3600, 'longest gap of a 09:00 and 17:00 schedule');
});

t.test('the limiter bounds concurrency and drops aborted waiters', async (t) => {
  const l = new Limiter(2);
  const a = await l.acquire();
  const b = await l.acquire();
  t.equal(l.tryAcquire(), undefined);
  const ac = new AbortController();
  const waiting = l.acquire(ac.signal);
  const next = l.acquire();
  ac.abort(new Error('stop'));
  await t.rejects(waiting, /stop/);
  a();
  const c = await next;
  t.equal(l.running, 2);
  b(); c(); c();
  t.equal(l.running, 0, 'a release is counted once');
});

t.test('alert rules pass promtool check and unit tests', { skip: hasBinary(PROMTOOL) ? false : 'promtool not installed' }, async (t) => {
  const check = spawnSync(PROMTOOL, ['check', 'rules', join(ROOT, 'config/prometheus/alerts.yml')], { encoding: 'utf8' });
  t.equal(check.status, 0, check.stdout + check.stderr);
  const unit = spawnSync(PROMTOOL, ['test', 'rules', 'alerts.test.yml'], { cwd: join(ROOT, 'config/prometheus'), encoding: 'utf8' });
  t.equal(unit.status, 0, unit.stdout + unit.stderr);
  t.match(unit.stdout, /SUCCESS/);
  const rules = YAML.parse(await readFile(join(ROOT, 'config/prometheus/alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string }> }> };
  const tests = await readFile(join(ROOT, 'config/prometheus/alerts.test.yml'), 'utf8');
  for (const r of rules.groups.flatMap((g) => g.rules)) t.match(tests, `alertname: ${r.alert}`, `${r.alert} has a unit test`);
  const cfg = spawnSync(PROMTOOL, ['check', 'config', join(ROOT, 'config/prometheus/prometheus.yml')], { encoding: 'utf8' });
  t.equal(cfg.status, 0, cfg.stdout + cfg.stderr);
});

t.test('Dockerfile and Kubernetes manifests (static: no container engine here)', async (t) => {
  const df = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
  const lines = df.split('\n').filter((l) => !l.trim().startsWith('#'));
  t.ok(lines.filter((l) => /^FROM /.test(l)).length >= 2, 'multi-stage');
  t.match(df, /ARG NODE_IMAGE=node:24-[a-z]+-slim/, 'Node 24 LTS slim base');
  t.match(df, /npm ci --omit=dev/, 'production dependencies only');
  const user = lines.filter((l) => /^USER /.test(l)).pop();
  t.match(String(user), /^USER [1-9]\d*(:\d+)?$/, 'the final user is numeric and not root');
  t.match(df, /^HEALTHCHECK .*\n?.*healthcheck\.js/m, 'HEALTHCHECK');
  t.match(df, /^EXPOSE 9433$/m);
  for (const label of ['title', 'version', 'source', 'licenses', 'revision']) t.match(df, `org.opencontainers.image.${label}`);
  t.notMatch(df, /^VOLUME/m, 'nothing written at run time');
  const nodeOptions = /^ENV NODE_OPTIONS="([^"]+)"$/m.exec(df)?.[1] ?? '';
  t.match(nodeOptions, /--max-old-space-size=128/, 'the heap cap bench/agent measures with');
  t.match(nodeOptions, /--max-semi-space-size=1/, 'and the small young generation');
  t.match(df, `RUN MIPROBE_RUNTIME_NODE_OPTIONS="${nodeOptions}" npm run build`, 'the code cache is made under the same flags (V8 rejects it otherwise)');
  t.match(df, /^ENV MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=65536 MALLOC_MMAP_THRESHOLD_=65536$/m, 'glibc allocator settings');
  const docs = YAML.parseAllDocuments(await readFile(join(ROOT, 'config/kubernetes/deployment.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, any>);
  const pod = docs[0]?.spec.template.spec;
  t.equal(pod.securityContext.runAsNonRoot, true);
  t.equal(pod.containers[0].securityContext.readOnlyRootFilesystem, true);
  t.equal(pod.containers[0].securityContext.allowPrivilegeEscalation, false);
  t.same(pod.containers[0].securityContext.capabilities.drop, ['ALL']);
  t.equal(pod.containers[0].livenessProbe.httpGet.path, '/healthz');
  const sm = YAML.parse(await readFile(join(ROOT, 'config/kubernetes/servicemonitor.yaml'), 'utf8')) as { kind: string; spec: { endpoints: Array<{ honorLabels: boolean }> } };
  t.equal(sm.kind, 'ServiceMonitor');
  t.equal(sm.spec.endpoints[0]?.honorLabels, true);
  const cm = YAML.parse(await readFile(join(ROOT, 'config/kubernetes/configmap.yaml'), 'utf8')) as { data: Record<string, string> };
  t.ok(configSchema.safeParse(YAML.parse(cm.data['agent.yaml'] ?? '')).success, 'the ConfigMap holds a valid config');
});

t.test('shipped agent configs are valid; the default file matches the built-in defaults', async (t) => {
  const example = await loadConfig({ file: join(ROOT, 'config/agent.example.yaml'), env: {}, flags: {} });
  t.equal(example.instances.length, 2);
  const def = await loadConfig({ file: join(ROOT, 'config/agent.default.yaml'), env: {}, flags: {} });
  const builtIn = configSchema.parse({});
  t.same(def.agent, builtIn.agent);
  t.same(def.instances, builtIn.instances);
});
