// Every TDS scenario over real sockets on 127.14.1.x (gateways) and 127.14.2.x
// (redirect nodes): the diagnosis must produce exactly the expected findings.
import t from 'tap';
import { TDS_SCENARIOS, startTdsScenario, type CertKind, type ScenarioCert } from '../../src/sim/tds-scenarios.js';
import { makeTdsCerts } from '../helpers/tds-certs.js';
import { diagnoseDataPath, FQDN, NODE_NAME } from '../helpers/tds.js';

const certs = await makeTdsCerts([FQDN]);
const byKind: Record<CertKind, ScenarioCert> = { valid: certs.valid, 'wrong-host': certs.wrongHost, expired: certs.expired, untrusted: certs.untrusted,
  node: certs.node };
const TIMEOUT_MS = 1500;

let n = 10;
for (const scenario of TDS_SCENARIOS) {
  n++;
  const gatewayAddress = `127.14.1.${n}`;
  const nodeAddress = `127.14.2.${n}`;
  t.test(scenario.name, async (t) => {
    const running = await startTdsScenario(scenario, {
      host: gatewayAddress, port: 1433, instanceName: FQDN, certs: byKind,
      nodeName: NODE_NAME, nodeHost: nodeAddress, nodePort: 11000 + n, slowMs: TIMEOUT_MS * 3,
    });
    t.teardown(() => running.close());
    const run = await diagnoseDataPath(scenario, {
      address: gatewayAddress, port: 1433, caPem: certs.caPem, hosts: { [NODE_NAME]: nodeAddress }, timeoutMs: TIMEOUT_MS,
    });
    t.same(run.ids, [...scenario.expected].sort(), `findings of ${scenario.name}: ${run.findings.map((f) => `${f.id} ${f.evidence}`).join(' | ')}`);
    t.ok(run.seconds < (TIMEOUT_MS * 3) / 1000 + 1, `finished within the deadlines (${run.seconds.toFixed(2)} s)`);
    t.ok(run.checks.length >= 3, 'check lines');
    t.doesNotThrow(() => JSON.stringify(run.evidence), 'evidence is JSON-serialisable');
    const { path, login } = run.evidence;
    if (scenario.expected.length === 0 || scenario.expected.every((id) => id.startsWith('LOGIN-012') || id.startsWith('REDIRECT-005'))) {
      t.equal(path?.ok, true, 'data path ok');
      t.equal(path?.tls?.ok, true, 'TLS ok');
      if (path?.tls?.ok) {
        t.equal(path.tls.hostnameMatch, true);
        t.equal(path.tls.trusted, true);
        t.match(path.tls.chain[0]?.pem ?? '', /^-----BEGIN CERTIFICATE-----/);
        t.ok(path.tls.chain.length >= 2, 'leaf and intermediate captured');
        t.equal(path.tls.mode, scenario.strict ? 'strict' : 'tds7');
        if (scenario.strict) t.equal(path.tls.alpn, 'tds/8.0');
      }
      const v = scenario.server?.version ?? { major: 12, minor: 0, build: 2000, subbuild: 8 };
      if (path?.prelogin?.ok) t.equal(path.prelogin.version, `${v.major}.${v.minor}.${v.build}.${v.subbuild}`, 'the version the server sent');
    }
    if (scenario.name === 'proxy-healthy-strict') {
      t.equal(login?.code, 'LOGIN_OK');
      if (login?.ok) t.same(login.query && { ok: login.query.ok, value: login.query.value }, { ok: true, value: 1 });
      t.equal(running.gateway.stats.strictHandshakes >= 2, true, 'probe and login both used strict TLS');
    }
    if (scenario.name === 'redirect-enhanced-routing') {
      t.same(login?.skipped, ['ENVCHANGE type 21'], 'tedious\'s note is evidence, not stderr output');
      t.equal(login?.routing, undefined, 'tedious stayed on the gateway');
    } else if (scenario.redirect === 'healthy') {
      t.same(login?.routing, { server: NODE_NAME, port: 11000 + n, ...(scenario.routingInstance ? { instance: scenario.routingInstance } : {}) });
      t.equal(run.evidence.redirect?.ok, true);
      t.ok(login?.phases.some((p) => p.leg === 1 && p.name === 'login7'), 'node login timed');
      t.equal(running.node?.stats.names[0], NODE_NAME, 'the node saw its own name as SNI, as drivers send it');
      t.same(login?.certificateChecks?.map((c) => c.name), [FQDN, NODE_NAME], 'gateway checked against the FQDN, the node against its routed name');
      const nodeTls = run.evidence.redirect?.path?.tls;
      t.equal(nodeTls?.ok && nodeTls.servername, NODE_NAME, 'the redirect probe checked the node certificate against the routed name');
    }
    if (scenario.name === 'encryption-off') t.equal(login?.encrypted, false, 'tedious logged in without TLS');
    if (scenario.name === 'proxy-healthy') {
      t.equal(login?.encrypted, true);
      t.same(login?.phases.map((p) => p.name), ['connect', 'prelogin', 'tls', 'login7']);
    }
  });
}
