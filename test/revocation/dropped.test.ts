// A firewall that silently drops the way to a revocation endpoint is REV-002
// (unreachable), not a skipped check: the case REV-002 exists for.
import t from 'tap';
import { AddressGuard } from '../../src/net/guard.js';
import { checkRevocationEndpoints } from '../../src/net/pki/revocation.js';
import { revocationFindings } from '../../src/diagnosis/revocation-rules.js';
import { netnsSkip, startTestNetns } from '../helpers/netns.js';

t.test('a dropped CRL host times out and is reported unreachable', { skip: await netnsSkip() }, async (t) => {
  const ep = await startTestNetns(t, { index: 31, filtered: [[80, 80]] });
  const guard = AddressGuard.fromList(['127.0.0.0/8', ep.cidr]);
  const started = performance.now();
  const [result] = await checkRevocationEndpoints([`http://${ep.address}/crl/issuing.crl`], {
    guard, timeoutMs: 800, resolve: async () => ({ addresses: [] }),
  });
  const seconds = (performance.now() - started) / 1000;
  t.ok(seconds < 2, `bounded by the deadline (${seconds.toFixed(2)} s)`);
  t.equal(result?.ok, false);
  t.equal(result?.error?.code, 'TCP_TIMEOUT', 'a timeout, not an abort');
  t.equal(result?.tcp?.state, 'filtered');
  const findings = revocationFindings({ chains: [], endpoints: result ? [result] : [] });
  t.same(findings.map((f) => f.id), ['REV-002']);
});
