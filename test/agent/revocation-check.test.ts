// The agent's revocation schedule checks the certificates the gateway serves, not only that the
// CRL and OCSP hosts answer: it runs the gateway's handshake for the chain (the check table's
// `needs`), and a revoked certificate makes the revocation check failing with REV-001 critical.
// What the gateway's handshake itself finds stays with the data path check.
import t, { type Test } from 'tap';
import type { Finding } from '../../src/diagnosis/finding.js';
import { startSimNetwork } from '../../src/sim/network.js';
import { findScenario, type Scenario } from '../../src/sim/scenarios.js';
import { startAgent, waitFor, writeConfig, type RunningAgent } from '../helpers/agent.js';

const BLOCK = '127.73.50';

interface StateLine { instance: string; check: string; state: string; findings: Finding[] }

async function revocationOnly(t: Test, scenario: string, block: string, listen: string): Promise<{ agent: RunningAgent; fqdn: string; line: StateLine }> {
  const sim = await startSimNetwork({ scenario: findScenario(scenario) as Scenario, block });
  t.teardown(() => sim.close());
  const layer = sim.configLayer() as { dns: Record<string, unknown>; probe: Record<string, unknown> };
  const config = await writeConfig({
    ...layer, timeoutMs: sim.suggestedTimeoutMs, dns: { ...layer.dns, requiredNames: [] }, probe: { ...layer.probe, login: 'none' },
    instances: [{ fqdn: sim.fqdn }],
    // Only the revocation schedule runs: what it finds is its own.
    agent: { listen, jitterSeconds: 0, schedules: { revocation: { cron: '* * * * * *' } } },
  });
  const agent = await startAgent(['--config', config], sim.secretsEnv());
  t.teardown(() => agent.stop());
  const line = await waitFor(() => agent.logs().find((l) => l.msg === 'check state changed' && l.check === 'revocation') as StateLine | undefined, 30_000, 'the revocation check');
  return { agent, fqdn: sim.fqdn, line };
}

const sample = (text: string, name: string, labels: string): number | undefined => {
  const m = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((p) => l.includes(p)));
  return m === undefined ? undefined : Number(m.slice(m.lastIndexOf(' ') + 1));
};

t.test('a revoked gateway certificate fails the agent\'s revocation check, on its schedule and on /probe', async (t) => {
  const { agent, fqdn, line } = await revocationOnly(t, 'revocation-revoked-crl', '127.73.51', `${BLOCK}.1:0`);
  t.equal(line.state, 'failing');
  t.same(line.findings.map((f) => [f.id, f.severity]), [['REV-001', 'critical']], 'REV-001 from the chain the gateway served');
  const metrics = await (await fetch(`${agent.url}/metrics`)).text();
  t.equal(sample(metrics, 'miprobe_check_success', 'check="revocation"'), 0);
  t.equal(sample(metrics, 'miprobe_finding', 'id="REV-001",severity="critical"'), 1);
  const probe = await (await fetch(`${agent.url}/probe?target=${fqdn}&module=revocation`)).text();
  t.match(probe, /^probe_success 0$/m);
  t.match(probe, /^miprobe_finding\{id="REV-001",severity="critical"\} 1$/m);
});

t.test('a gateway that breaks the handshake leaves the chain unchecked: the revocation check says so, without the gateway\'s finding', async (t) => {
  const { agent, fqdn, line } = await revocationOnly(t, 'garbage', '127.73.52', `${BLOCK}.2:0`);
  const reached = line as StateLine & { reason?: string };
  t.equal(reached.state, 'not-reached', 'the CRL and OCSP hosts answered, but the chain was not reached');
  t.equal(reached.reason, 'not reached because no TLS handshake completed, so no certificate chain was seen (TDS-003)');
  t.same(line.findings.filter((f) => f.severity !== 'info').map((f) => f.id), [], 'the gateway\'s failure is the data path check\'s finding');
  const metrics = await (await fetch(`${agent.url}/metrics`)).text();
  t.equal(sample(metrics, 'miprobe_check_success', 'check="revocation"'), 0, 'a check that did not reach what it checks does not succeed');
  const report = await (await fetch(`${agent.url}/probe?target=${fqdn}&module=revocation`)).text();
  t.match(report, /^probe_success 0$/m, '/probe?module=revocation: the same');
  t.notMatch(report, /miprobe_finding\{id="TDS-/, 'the handshake\'s finding is not the module\'s');
  const status = await (await fetch(`${agent.url}/`)).text();
  t.match(status, /Certificate revocation: not reached: no TLS handshake completed, so no certificate chain was seen \(TDS-003\)/,
    'the status page shows the chain was not checked, and why');
});

t.test('a good chain keeps it healthy', async (t) => {
  const { line } = await revocationOnly(t, 'healthy', '127.73.53', `${BLOCK}.3:0`);
  t.equal(line.state, 'healthy');
  t.same(line.findings.filter((f) => f.severity !== 'info').map((f) => f.id), []);
});
