// Severity is what this host can know (issue 12), over real sockets:
// - a healthy instance seen from a locked-down subnet (no way out to any
//   revocation host) is degraded, not failing: unreachable revocation
//   endpoints are a warning that says why and points at check-network;
// - a resolver that does not answer gives DNS-002, and the revocation
//   endpoints it kept from being tried are one finding caused by it, not
//   criticals of their own;
// - a revoked certificate stays critical.
// Loopback blocks 127.81.3.0/24 (silent resolver) and 127.81.4-5.0/24 (simulated networks).
import t from 'tap';
import { loadConfig, mergeLayers } from '../../src/config/load.js';
import { runDiagnosis } from '../../src/cli/diagnose.js';
import { AddressGuard } from '../../src/net/guard.js';
import { hostResolverFor } from '../../src/probes/context.js';
import { checkRevocationEndpoints } from '../../src/net/pki/revocation.js';
import { DEFAULT_REVOCATION_ENDPOINTS } from '../../src/probes/revocation.js';
import { revocationChecks, revocationFindings } from '../../src/diagnosis/revocation-rules.js';
import { resetLoginRateLimit } from '../../src/probes/login.js';
import { startDnsServer } from '../../src/sim/dns-server.js';
import { startSimNetwork } from '../../src/sim/network.js';
import { findScenario } from '../../src/sim/scenarios.js';

async function diagnoseScenario(name: string, block: string) {
  const scenario = findScenario(name);
  if (!scenario) throw new Error(`no scenario ${name}`);
  resetLoginRateLimit();
  const network = await startSimNetwork({ scenario, block });
  try {
    const config = await loadConfig({ env: {}, flags: mergeLayers({ timeoutMs: network.suggestedTimeoutMs }, network.configLayer()) });
    return await runDiagnosis(network.fqdn, config, network.secretsEnv());
  } finally {
    await network.close();
  }
}

t.test('a healthy instance behind a locked-down subnet is degraded, not failing', async (t) => {
  const report = await diagnoseScenario('revocation-no-egress', '127.81.4');
  t.equal(report.verdict, 'degraded');
  t.same(report.findings.filter((f) => f.severity === 'critical'), [], 'no critical');
  t.ok(report.findings.some((f) => f.id === 'LOGIN-012'), 'the dummy login proves the path works');
  const rev = report.findings.filter((f) => f.id === 'REV-002');
  t.equal(rev.length, 2, 'one finding for the chain\'s URLs, one for the eight platform endpoints');
  t.ok(rev.every((f) => f.severity === 'warning'));
  const platform = rev.find((f) => f.subject === undefined);
  t.match(platform?.evidence, /^8 URLs \(http:\/\/crl\.microsoft\.com:\d+\/pki\/mscorp\/crl\/msintcrca\.crl \(CRL\), /);
  t.match(platform?.evidence, /TCP \d+ failed: TCP_REFUSED/);
  t.match(platform?.fix, /risk, not a break/);
  t.match(platform?.fix, /`miprobe check-network`/);
  t.match(platform?.fix, /30 s/);
  t.match(platform?.ref, /SQL-Connectivity-Checker\/issues\/122/);
  t.notMatch(platform?.ref ?? '', /REFERENCES|seed/, 'public references only');
});

t.test('a revoked certificate stays critical', async (t) => {
  const report = await diagnoseScenario('revocation-revoked-crl', '127.81.5');
  t.equal(report.verdict, 'failing');
  t.match(report.findings.find((f) => f.id === 'REV-001'), { severity: 'critical', evidence: /is revoked \(reason keyCompromise/ });
});

t.test('a silent resolver: the endpoints are not reached because of DNS-002', async (t) => {
  const silent = await startDnsServer({ host: '127.81.3.53', records: [], behaviour: 'silent' });
  t.teardown(() => silent.close());
  const guard = AddressGuard.fromList('127.81.3.0/24');

  await t.test('the probe and the rules', async (t) => {
    const resolver = hostResolverFor([{ endpoint: silent.endpoint, role: 'custom' }], guard, 0, { ipv6: false });
    const results = await checkRevocationEndpoints(DEFAULT_REVOCATION_ENDPOINTS, { resolve: resolver, guard, timeoutMs: 600 });
    t.ok(results.every((r) => r.error?.code === 'DNS_FAILED' && r.dns?.code === 'DNS_TIMEOUT'), 'every lookup timed out');
    const findings = revocationFindings({ chains: [], endpoints: results });
    t.equal(findings.length, 1, 'one finding, not eight');
    t.match(findings[0], { id: 'REV-002', severity: 'warning', causedBy: 'DNS-002' });
    t.match(findings[0]?.evidence, /^not reached, because name resolution failed: the resolver did not answer \(DNS-002\); not tried: http:\/\/crl\.microsoft\.com\/pki\/mscorp\/crl\/msintcrca\.crl \(CRL\), /);
    t.ok(DEFAULT_REVOCATION_ENDPOINTS.every((u) => findings[0]?.evidence.includes(u)), 'every endpoint is named');
    const checks = revocationChecks({ chains: [], endpoints: results });
    t.ok(checks.every((c) => c.status === 'skip' && /not reached: the resolver did not answer \(DNS-002\)/.test(c.detail ?? '')));
  });

  await t.test('the whole diagnosis: one critical, the cause', async (t) => {
    const config = await loadConfig({ env: {}, flags: { timeoutMs: 600, allowCidrs: ['127.81.3.0/24'],
      dns: { servers: [`127.81.3.53:${silent.endpoint.port}`], retries: 0 }, probe: { login: 'none' } } });
    const report = await runDiagnosis('mi1.0a1b2c3d4e5f.database.windows.net', config, {});
    const critical = report.findings.filter((f) => f.severity === 'critical');
    t.same(critical.map((f) => f.id), ['DNS-002'], 'DNS-002 is the only critical');
    t.same(report.findings.filter((f) => f.id.startsWith('REV-')), [], 'the endpoints were not tried, so they raise nothing');
    t.match(report.checks.find((c) => c.name === 'Revocation endpoints'), { status: 'skip', detail: /^not reached: no resolver answered/, causedBy: 'DNS-002' });
  });
});
