import t from 'tap';
import { join } from 'node:path';
import { envLayer, loadConfig, mergeLayers } from '../../src/config/load.js';
import { DEFAULT_REQUIRED_DNS_NAMES } from '../../src/config/defaults.js';

t.test('defaults', async (t) => {
  const config = await loadConfig({ env: {}, flags: {} });
  t.equal(config.timeoutMs, 5000);
  t.same(config.allowCidrs, []);
  t.same(config.dns.servers, []);
  t.same(config.dns.requiredNames, DEFAULT_REQUIRED_DNS_NAMES);
  t.equal(config.probe.login, 'none');
  t.equal(config.probe.revocation, true);
});

t.test('precedence: flags > env > file > defaults', async (t) => {
  const dir = t.testdir({ 'c.yaml': 'timeoutMs: 1000\ndns:\n  servers: ["10.0.0.1"]\n  retries: 3\nprobe:\n  subnet: 10.0.0.0/24\n' });
  const file = join(dir, 'c.yaml');
  const fromFile = await loadConfig({ file, env: {}, flags: {} });
  t.equal(fromFile.timeoutMs, 1000);
  t.same(fromFile.dns.servers, ['10.0.0.1']);
  const fromEnv = await loadConfig({ file, env: { MIPROBE_TIMEOUT_MS: '2000', MIPROBE_DNS_SERVERS: '10.0.0.2:53,10.0.0.3' }, flags: {} });
  t.equal(fromEnv.timeoutMs, 2000);
  t.same(fromEnv.dns.servers, ['10.0.0.2:53', '10.0.0.3']);
  t.equal(fromEnv.dns.retries, 3, 'deep merge keeps sibling keys from the file');
  const fromFlags = await loadConfig({ file, env: { MIPROBE_TIMEOUT_MS: '2000' }, flags: { timeoutMs: 3000 } });
  t.equal(fromFlags.timeoutMs, 3000);
  t.equal(fromFlags.probe.subnet, '10.0.0.0/24');
  const viaEnvPath = await loadConfig({ env: { MIPROBE_CONFIG: file }, flags: {} });
  t.equal(viaEnvPath.timeoutMs, 1000, 'MIPROBE_CONFIG names the file');
});

t.test('errors name the key path and the expected value', async (t) => {
  const dir = t.testdir({
    'bad-type.json': '{"timeoutMs": "soon"}',
    'bad-key.yaml': 'dns:\n  server: [1.2.3.4]\n',
    'bad-ip.yaml': 'dns:\n  servers: ["1.2.3.4", "resolver.example"]\n',
    'bad-syntax.yaml': 'dns: [\n',
    'list.yaml': '- a\n- b\n',
    'empty.yaml': '',
  });
  await t.rejects(loadConfig({ file: join(dir, 'bad-type.json'), env: {}, flags: {} }), { message: /timeoutMs: .*expected number/ });
  await t.rejects(loadConfig({ file: join(dir, 'bad-key.yaml'), env: {}, flags: {} }), { message: /dns: unknown key\(s\) "server"/ });
  await t.rejects(loadConfig({ file: join(dir, 'bad-ip.yaml'), env: {}, flags: {} }), { message: /dns\.servers\[1\]: expected an IP address/ });
  await t.rejects(loadConfig({ file: join(dir, 'bad-syntax.yaml'), env: {}, flags: {} }), { message: /not valid YAML\/JSON/ });
  await t.rejects(loadConfig({ file: join(dir, 'list.yaml'), env: {}, flags: {} }), { message: /must hold a mapping/ });
  await t.rejects(loadConfig({ file: join(dir, 'missing.yaml'), env: {}, flags: {} }), { message: /cannot read config file .*missing\.yaml \(ENOENT\)/ });
  t.equal((await loadConfig({ file: join(dir, 'empty.yaml'), env: {}, flags: {} })).timeoutMs, 5000, 'an empty file is no settings');
  await t.rejects(loadConfig({ env: { MIPROBE_TIMEOUT_MS: 'soon' }, flags: {} }), { message: /timeoutMs: .*expected number/ });
  await t.rejects(loadConfig({ env: { MIPROBE_ALLOW_CIDRS: '127.0.0.0/8,nope' }, flags: {} }), { message: /allowCidrs\[1\]: expected a CIDR block/ });
  await t.rejects(loadConfig({ env: { MIPROBE_STRICT: 'maybe' }, flags: {} }), { message: /probe\.strict/ });
});

t.test('layers', async (t) => {
  t.same(envLayer({ MIPROBE_STRICT: 'yes', MIPROBE_ALLOW_CIDRS: '127.0.0.0/8 ::1/128', UNRELATED: 'x' }),
    { probe: { strict: true }, allowCidrs: ['127.0.0.0/8', '::1/128'] });
  t.same(mergeLayers({ a: { b: 1, c: [1] } }, { a: { c: [2] } }), { a: { b: 1, c: [2] } }, 'lists replace, mappings merge');
});

t.test('agent instances override only what they set; the rest comes from probe', async (t) => {
  const config = await loadConfig({ env: {}, flags: {
    probe: { revocation: false, login: 'dummy' },
    instances: [{ fqdn: 'a.b.database.windows.net' }, { fqdn: 'c.d.database.windows.net', revocation: true }],
  } });
  t.same(config.instances[0], { fqdn: 'a.b.database.windows.net', labels: {} }, 'no defaults filled in on the instance');
  t.equal(config.instances[1]?.revocation, true);
  const { planInstances } = await import('../../src/agent/instances.js');
  const planned = planInstances(config);
  t.equal(planned[0]?.checks.has('revocation'), false, 'probe.revocation: false is inherited');
  t.equal(planned[0]?.config.probe.login, 'dummy');
  t.equal(planned[1]?.checks.has('revocation'), true, 'the instance switches it back on');
});
