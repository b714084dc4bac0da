// The login's phases are the network's: tedious builds a TLS context from every trusted root
// (and the extra anchors) at each TLS start, which is our CPU; the phases are timed at socket
// events, so that work stays off them. Made deliberately heavy here (thousands of anchors), the
// context costs far more than any phase may show. Gateways on 127.14.6.x, nodes on 127.14.7.x.
import { createSecureContext, rootCertificates } from 'node:tls';
import t from 'tap';
import { findTdsScenario, startTdsScenario, type CertKind, type ScenarioCert } from '../../src/sim/tds-scenarios.js';
import { probeLogin } from '../../src/probes/login.js';
import { SIM_SQL_LOGIN } from '../../src/sim/tds-scenarios.js';
import { makeTdsCerts } from '../helpers/tds-certs.js';
import { FQDN, loopbackGuard, NODE_NAME } from '../helpers/tds.js';
import { testContext } from '../helpers/context.js';

const certs = await makeTdsCerts([FQDN]);
const byKind: Record<CertKind, ScenarioCert> = { valid: certs.valid, 'wrong-host': certs.wrongHost, expired: certs.expired, untrusted: certs.untrusted,
  node: certs.node };
// The test's CA after many copies of the bundled roots: tedious parses all of them for each TLS context.
const heavyCa = [...Array.from({ length: 5 }, () => rootCertificates).flat(), certs.caPem];

t.test('building tedious\' TLS context is heavy here, so a phase that included it would show it', async (t) => {
  const t0 = performance.now();
  createSecureContext({ ca: [...rootCertificates, ...heavyCa] });
  const ms = performance.now() - t0;
  t.ok(ms > 60, `one context takes ${ms.toFixed(0)} ms`);
});

let n = 0;
for (const name of ['proxy-healthy', 'proxy-healthy-strict', 'redirect-healthy', 'redirect-strict']) {
  n++;
  t.test(`${name}: no login phase carries the TLS context's CPU`, async (t) => {
    const scenario = findTdsScenario(name);
    if (!scenario) throw new Error(`no scenario ${name}`);
    const gatewayAddress = `127.14.6.${n}`;
    const nodeAddress = `127.14.7.${n}`;
    const running = await startTdsScenario(scenario, {
      host: gatewayAddress, port: 1433, instanceName: FQDN, certs: byKind,
      nodeName: NODE_NAME, nodeHost: nodeAddress, nodePort: 11100 + n, slowMs: 10_000,
    });
    t.teardown(() => running.close());
    const ctx = testContext(loopbackGuard(), 10_000, { hosts: { [NODE_NAME]: nodeAddress } });
    const t0 = performance.now();
    createSecureContext({ ca: [...rootCertificates, ...heavyCa] });
    const contextMs = performance.now() - t0;
    const login = await probeLogin({ host: FQDN, address: gatewayAddress, port: 1433, strict: scenario.strict === true, ca: heavyCa,
      mode: scenario.login, user: SIM_SQL_LOGIN.user, password: SIM_SQL_LOGIN.password, dummyIntervalMs: 0 }, ctx);
    t.ok(login.code === 'LOGIN_OK' || login.code === 'LOGIN_FAILED', `logged in or 18456: ${login.code} ${login.message}`);
    const legs = scenario.redirect === 'healthy' ? [0, 1] : [0];
    const order = scenario.strict ? ['connect', 'tls', 'prelogin', 'login7'] : ['connect', 'prelogin', 'tls', 'login7'];
    for (const leg of legs) {
      t.same(login.phases.filter((p) => p.leg === leg && order.includes(p.name)).map((p) => p.name), order, `leg ${leg}: the phases in the order they happen on the wire`);
    }
    t.notOk(login.phases.some((p) => p.name === 'routing'), 'tedious\' own reroute work is no network phase');
    // Each leg built a context as costly as contextMs; the phases are the loopback's (a few ms), with room for a busy machine.
    const worst = login.phases.reduce((a, p) => (p.seconds > a.seconds ? p : a), { leg: 0, name: 'connect', seconds: 0 });
    t.ok(worst.seconds * 1000 < contextMs / 2, `largest phase ${worst.leg ? 'node ' : ''}${worst.name} ${(worst.seconds * 1000).toFixed(1)} ms, `
      + `a TLS context ${contextMs.toFixed(0)} ms (login took ${(login.seconds * 1000).toFixed(0)} ms)`);
    t.ok(login.seconds * 1000 > contextMs * legs.length * 0.5, 'the login itself did pay for the contexts (the test can fail)');
  });
}
