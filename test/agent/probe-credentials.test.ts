// /probe for a host that is not a configured instance never carries the
// configured credentials; a configured instance gets its login.
import t from 'tap';
import { join } from 'node:path';
import { startDnsServer } from '../../src/sim/dns-server.js';
import { buildMiZone } from '../../src/sim/mi-zone.js';
import { certFor, makeGatewayCerts } from '../../src/sim/gateway-certs.js';
import { startTdsGateway } from '../../src/sim/tds-gateway.js';
import { SIM_SQL_LOGIN } from '../../src/sim/tds-scenarios.js';
import { startAgent, writeConfig } from '../helpers/agent.js';

const BLOCK = '127.70.77';
const KNOWN = 'known.0a1b2c3d4e5f.database.windows.net';
const STRANGER = 'stranger.0a1b2c3d4e5f.database.windows.net';

t.test('credentials go only to configured instances', async (t) => {
  const certs = await makeGatewayCerts([KNOWN, STRANGER]);
  // One gateway serves both names (any name), so each login attempt is counted in one place.
  const gateway = await startTdsGateway({ host: `${BLOCK}.4`, port: 1433, ...certFor(certs, 'valid'), logins: { [SIM_SQL_LOGIN.user]: SIM_SQL_LOGIN.password } });
  t.teardown(() => gateway.close());
  const dns = await startDnsServer({ host: `${BLOCK}.53`, port: 0, records: [
    ...buildMiZone({ miName: 'known', zoneId: '0a1b2c3d4e5f', region: 'r1', ilbAddress: `${BLOCK}.4` }),
    ...buildMiZone({ miName: 'stranger', zoneId: '0a1b2c3d4e5f', region: 'r2', ilbAddress: `${BLOCK}.4` }),
  ] });
  t.teardown(() => dns.close());
  const dir = t.testdir({ 'ca.pem': certs.caPem });
  const config = await writeConfig({
    allowCidrs: ['127.0.0.0/8'], timeoutMs: 3000, dns: { servers: [`${BLOCK}.53:${dns.endpoint.port}`], requiredNames: [] },
    probe: { login: 'sql', user: SIM_SQL_LOGIN.user, caFile: join(dir, 'ca.pem'), revocation: false, managementPorts: false },
    instances: [{ fqdn: KNOWN }],
    // The stranger passes the /probe fence by a pattern: the fence decides where /probe may go, not who gets credentials.
    agent: { listen: `${BLOCK}.1:0`, probeTargets: ['*.0a1b2c3d4e5f.database.windows.net'], schedules: { nameResolution: { enabled: false }, dataPath: { enabled: false } } },
  }, dir);
  const agent = await startAgent(['--config', config], { MIPROBE_PASSWORD: SIM_SQL_LOGIN.password });
  t.teardown(() => agent.stop());

  const stranger = await fetch(`${agent.url}/probe?target=${STRANGER}&module=dataPath`);
  t.equal(stranger.status, 200);
  t.match(await stranger.text(), /miprobe_tcp_connect_success|probe_success|miprobe_/, 'the probe ran');
  t.equal(gateway.stats.logins, 0, 'no login was sent for an unconfigured target');
  t.ok(gateway.stats.prelogins > 0, 'the data path itself was probed');

  const known = await fetch(`${agent.url}/probe?target=${KNOWN}&module=dataPath`);
  t.equal(known.status, 200);
  await known.text();
  t.equal(gateway.stats.logins, 1, 'the configured instance logged in');
  t.same(gateway.stats.names.filter((n) => n !== ''), [KNOWN], 'with its own name');
});

t.test('a login without its secret stops the start with the reason (exit 2)', async (t) => {
  const dir = t.testdir({});
  const config = await writeConfig({
    allowCidrs: ['127.0.0.0/8'], dns: { servers: [`${BLOCK}.53`], requiredNames: [] },
    probe: { login: 'sql', user: 'miprobe' }, instances: [{ fqdn: KNOWN }], agent: { listen: `${BLOCK}.1:0` },
  }, dir);
  await t.rejects(startAgent(['--config', config], {}), { message: /agent exited with 2: .*--login sql needs a password/ });
});
