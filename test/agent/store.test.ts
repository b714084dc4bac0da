// The result store: a check switched off by a reload stops exporting its last result.
import t from 'tap';
import { ResultStore } from '../../src/agent/store.js';

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
