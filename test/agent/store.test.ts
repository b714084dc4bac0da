// Agent state and guards: a check switched off by a reload stops exporting; each check exports its
// latest result only, from one buffer per instance; bcrypt work is capped.
import t from 'tap';
import { ResultStore } from '../../src/agent/store.js';
import type { DiagnosisReport } from '../../src/diagnosis/report.js';
import { renderFamilies } from '../../src/metrics/exposition.js';

function report(portState: string, address: string): DiagnosisReport {
  return {
    schemaVersion: 1, tool: { name: 'miprobe', version: 't' }, target: { fqdn: 'x', kind: 'vnet-local', port: 1433 }, startedAt: '2030-01-01T00:00:00.000Z',
    durationSeconds: 0.1, verdict: 'healthy',
    dns: [{ server: '10.0.0.2:53', role: 'custom', ok: true, chain: [], addresses: [address], canonicalName: 'x', transport: 'udp', seconds: 0.01 }],
    managementEndpoint: { present: true, host: 'trx', cnameTarget: 'x', addresses: ['20.1.1.1'], seconds: 0.01 }, dnsCoverage: [],
    managementFirewall: { ok: true, applicable: true, address: '20.1.1.1', seconds: 1, ports: [{ port: 9000, state: portState, seconds: 0.01 }] },
    checks: [], findings: [],
  } as unknown as DiagnosisReport;
}

t.test('each check exports its latest result; every line of an instance lives in one buffer of its own', async (t) => {
  const store = new ResultStore();
  const fqdn = 'mi1.z1.database.windows.net';
  store.setInstances([{ fqdn, kind: 'vnet-local', labels: {}, checks: new Set(['nameResolution', 'management'] as const) }]);
  store.record(fqdn, { check: 'management', completedAt: 1, durationSeconds: 0.1, report: report('closed', '10.1.0.4') });
  store.record(fqdn, { check: 'nameResolution', completedAt: 2, durationSeconds: 0.1, report: report('closed', '10.1.0.4') });
  store.record(fqdn, { check: 'management', completedAt: 3, durationSeconds: 0.1, report: report('filtered', '10.1.0.4') });
  const text = renderFamilies(store.lines()).toString('utf8');
  t.match(text, /^miprobe_port_state\{instance="mi1\.z1\.database\.windows\.net",endpoint="management",port="9000",state="filtered"\} 1$/m, 'the latest management result');
  t.match(text, /state="closed"\} 0$/m, 'not the one before');
  t.equal(text.match(/^miprobe_port_state\{.*state="filtered"\}/gm)?.length, 1, 'once');
  t.match(text, /^miprobe_dns_addresses\{instance="mi1\.z1\.database\.windows\.net",resolver="10\.0\.0\.2:53",role="custom"\} 1$/m, 'the name resolution lines are still there');
  t.match(text, /^miprobe_check_last_completed_timestamp_seconds\{instance="mi1\.z1\.database\.windows\.net",check="management"\} 3$/m);
  const parts = [...store.lines()];
  t.equal(parts.length, 1, 'one part per instance');
  const buffers = new Set([...(parts[0]?.values() ?? [])].map((b) => b.buffer));
  t.equal(buffers.size, 1, 'all its lines are views of one buffer');
  t.ok([...buffers][0]?.byteLength === [...(parts[0]?.values() ?? [])].reduce((n, b) => n + b.length, 0), 'of exactly their size (not a slice of a shared pool)');
  store.setInstances([{ fqdn, kind: 'vnet-local', labels: {}, checks: new Set(['nameResolution'] as const) }]);
  t.notMatch(renderFamilies(store.lines()).toString('utf8'), /endpoint="management"/, 'a check switched off stops exporting');
});

t.test('results of checks no longer scheduled are dropped on setInstances', async (t) => {
  const store = new ResultStore();
  const fqdn = 'mi1.z1.database.windows.net';
  store.setInstances([{ fqdn, kind: 'vnet-local', labels: {}, checks: new Set(['nameResolution', 'revocation'] as const) }]);
  store.record(fqdn, { check: 'revocation', completedAt: 1, durationSeconds: 0.1, error: 'DEADLINE_EXCEEDED' });
  store.record(fqdn, { check: 'nameResolution', completedAt: 1, durationSeconds: 0.1, error: 'DEADLINE_EXCEEDED' });
  const checks = (): string[] => store.status().flatMap((s) => s.checks.map((c) => c.check)).sort();
  t.same(checks(), ['nameResolution', 'revocation']);

  store.setInstances([{ fqdn, kind: 'vnet-local', labels: {}, checks: new Set(['nameResolution'] as const) }]);
  t.same(checks(), ['nameResolution'], 'revocation was switched off: its result is gone');

  store.setInstances([{ fqdn, kind: 'vnet-local', labels: {} }]);
  t.same(checks(), ['nameResolution'], 'without a check list, results are kept');
});

t.test('basic auth: bcrypt comparisons are capped; beyond the cap a check fails at once', async (t) => {
  const { BasicAuth } = await import('../../src/agent/web-config.js');
  const bcrypt = (await import('bcryptjs')).default;
  const auth = new BasicAuth(new Map([['prometheus', bcrypt.hashSync('right', 4)]]));
  const header = (pw: string): string => `Basic ${Buffer.from(`prometheus:${pw}`).toString('base64')}`;
  t.equal(await auth.check(header('right')), true);
  const guesses = await Promise.all(Array.from({ length: 12 }, (_, i) => auth.check(header(`wrong${i}`))));
  t.equal(guesses.filter((g) => g).length, 0, 'no guess passes');
  t.equal(await auth.check(header('right')), true, 'the right password still passes (cached)');
});
