// Every revocation scenario of the simulation, checked over real HTTP on
// loopback (127.80.1.0/24), with the findings the diagnosis must raise.
import t from 'tap';
import { AddressGuard } from '../../src/net/guard.js';
import { RevocationCache } from '../../src/net/pki/cache.js';
import { checkChainRevocation } from '../../src/net/pki/revocation.js';
import { revocationChecks, revocationFindings } from '../../src/diagnosis/revocation-rules.js';
import { REVOCATION_SCENARIOS } from '../../src/sim/revocation-responders.js';
import { CATALOG } from '../../src/diagnosis/catalog/index.js';

const guard = AddressGuard.fromList('127.80.1.0/24');

t.test('every expected finding id is in the catalog', async (t) => {
  const ids = new Set(CATALOG.map((d) => d.id));
  for (const s of REVOCATION_SCENARIOS) for (const id of s.expected) t.ok(ids.has(id), `${s.name}: ${id}`);
  t.equal(new Set(REVOCATION_SCENARIOS.map((s) => s.name)).size, REVOCATION_SCENARIOS.length, 'names are unique');
});

let octet = 10;
for (const scenario of REVOCATION_SCENARIOS) {
  const host = `127.80.1.${octet++}`;
  t.test(`scenario ${scenario.name}`, async (t) => {
    const inst = await scenario.setup({ host });
    t.teardown(() => inst.close());
    const started = performance.now();
    const result = await checkChainRevocation(inst.chainPem, { guard, timeoutMs: inst.timeoutMs, subject: 'gateway',
      cache: new RevocationCache(), extraCertificatesPem: [inst.pki.rootPem] });
    const elapsed = performance.now() - started;
    t.ok(elapsed < inst.timeoutMs + 1000, `bounded by the deadline (${Math.round(elapsed)} ms)`);
    const findings = revocationFindings({ chains: [result], endpoints: [] });
    const ids = [...new Set(findings.map((f) => f.id))].sort();
    t.same(ids, [...scenario.expected].sort(), `findings: ${findings.map((f) => `${f.id} ${f.evidence}`).join(' | ')}`);
    t.same(JSON.parse(JSON.stringify(result)), result, 'the result is JSON as it is');
    const checks = revocationChecks({ chains: [result], endpoints: [] });
    t.ok(checks.length > 0);
    const leaf = result.certificates[0];
    t.ok(leaf, 'the leaf is reported');
    if (scenario.expected.length === 0) {
      t.equal(result.ok, true);
      t.equal(leaf?.status, 'good');
      t.equal(result.certificates.length, 3, 'leaf, intermediate, root');
      t.equal(result.certificates[2]?.selfSigned, true);
      t.ok(checks.every((c) => c.status === 'pass' || c.status === 'info'), 'all checks pass');
    }
    if (scenario.name.startsWith('revoked')) {
      t.equal(leaf?.status, 'revoked');
      t.equal(leaf?.revocation?.reason, 'keyCompromise');
      t.equal(leaf?.revocation?.source, scenario.name === 'revoked-crl' ? 'crl' : 'ocsp');
      t.equal(result.ok, false);
    }
    if (scenario.name === 'missing-intermediate') {
      t.equal(leaf?.issuerSource, 'aia');
      t.equal(leaf?.status, 'good');
      t.equal(result.issuerFetches[0]?.ok, true);
    }
    if (scenario.name === 'huge-body') {
      t.equal(leaf?.crl[0]?.error?.code, 'HTTP_TOO_LARGE');
    }
    if (scenario.name === 'hostile-endless') {
      t.equal(leaf?.ocsp[0]?.error?.code, 'HTTP_TOO_LARGE');
    }
    if (scenario.name === 'hostile-redirect') {
      t.equal(leaf?.crl[0]?.error?.code, 'HTTP_REDIRECT_OFF_HOST');
    }
    if (scenario.name === 'hostile-garbage') {
      t.equal(leaf?.crl[0]?.error?.code, 'PARSE_ERROR');
    }
    const leafCode: Record<string, string> = {
      'hostile-redirect-loop': 'HTTP_REDIRECT_LOOP', 'captive-portal': 'HTTP_HTML', 'block-page': 'HTTP_FORBIDDEN',
      'proxy-407': 'HTTP_PROXY_AUTH', 'responder-timeout': 'HTTP_HEADERS_TIMEOUT', 'no-egress': 'TCP_REFUSED',
    };
    const code = leafCode[scenario.name];
    if (code) {
      t.equal(leaf?.crl[0]?.error?.code, code, `the leaf's CRL: ${code}`);
      t.notOk(findings.some((f) => f.severity === 'critical'), 'what answers instead of the CA is a warning, not a break');
    }
    if (['captive-portal', 'block-page', 'proxy-407', 'no-egress'].includes(scenario.name)) {
      t.equal(leaf?.ocsp[0]?.error?.code, code, 'the OCSP request met the same');
      t.equal(findings.length, 1, 'one finding for the one cause, listing every URL');
      t.match(findings[0]?.evidence, /^4 URLs \(/);
    }
    if (scenario.name === 'crl-unreachable') {
      t.equal(leaf?.crl[0]?.error?.code, 'TCP_REFUSED');
      t.equal(leaf?.status, 'good', 'OCSP still answers');
      t.match(findings.find((f) => f.id === 'REV-002')?.fix ?? '', /30 s/);
    }
  });
}
