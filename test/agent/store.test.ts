// Agent state and guards: a check switched off by a reload stops exporting; bcrypt work is capped.
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
