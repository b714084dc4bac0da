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
    'two-docs.yaml': 'timeoutMs: 3000\n---\ntimeoutMs: 9000\n',
    'after-end.yaml': 'timeoutMs: 3000\n...\ndns:\n  servers: [10.0.0.2]\n',
    'comment-only.yaml': '# nothing set yet\n',
  });
  await t.rejects(loadConfig({ file: join(dir, 'bad-type.json'), env: {}, flags: {} }), { message: /timeoutMs: .*expected number/ });
  await t.rejects(loadConfig({ file: join(dir, 'bad-key.yaml'), env: {}, flags: {} }), { message: /dns: unknown key\(s\) "server"/ });
  await t.rejects(loadConfig({ file: join(dir, 'bad-ip.yaml'), env: {}, flags: {} }), { message: /dns\.servers\[1\]: expected an IP address/ });
  await t.rejects(loadConfig({ file: join(dir, 'bad-syntax.yaml'), env: {}, flags: {} }), { message: /not valid YAML\/JSON/ });
  await t.rejects(loadConfig({ file: join(dir, 'list.yaml'), env: {}, flags: {} }), { message: /must hold a mapping/ });
  await t.rejects(loadConfig({ file: join(dir, 'missing.yaml'), env: {}, flags: {} }), { message: /cannot read config file .*missing\.yaml \(ENOENT\)/ });
  t.equal((await loadConfig({ file: join(dir, 'empty.yaml'), env: {}, flags: {} })).timeoutMs, 5000, 'an empty file is no settings');
  await t.rejects(loadConfig({ file: join(dir, 'two-docs.yaml'), env: {}, flags: {} }), { message: /holds 2 YAML documents \(a second one starts at line 2/ },
    'a second document is not dropped silently');
  await t.rejects(loadConfig({ file: join(dir, 'after-end.yaml'), env: {}, flags: {} }), { message: /holds 2 YAML documents \(a second one starts at line 3/ });
  t.equal((await loadConfig({ file: join(dir, 'comment-only.yaml'), env: {}, flags: {} })).timeoutMs, 5000, 'a file of comments is no settings');
  await t.rejects(loadConfig({ env: { MIPROBE_TIMEOUT_MS: 'soon' }, flags: {} }), { message: /timeoutMs: .*expected number/ });
  await t.rejects(loadConfig({ env: { MIPROBE_ALLOW_CIDRS: '127.0.0.0/8,nope' }, flags: {} }), { message: /allowCidrs\[1\]: expected a CIDR block/ });
  await t.rejects(loadConfig({ env: { MIPROBE_STRICT: 'maybe' }, flags: {} }), { message: /probe\.strict/ });
  await t.rejects(loadConfig({ env: {}, flags: { probe: { revocationUrls: ['http://crl.example/a.crl', 'ftp://crl.example/b.crl'] } } }),
    { message: /probe\.revocationUrls\[1\]: expected an http:\/\/ or https:\/\/ URL/ }, 'a revocation URL miprobe could not check is refused up front');
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

// Clean errors for files (issue 14): every YAML error or warning, every wrong type, every nesting or
// alias bomb is one line naming the file, the line or key, and the fix; exit 2; never a raw library
// warning, a stack, or "internal error" (exit 3). These run the real executable: a YAMLWarning is
// printed by Node on the process's own stderr.
t.test('bad config files: the real CLI exits 2 with one line naming the line or key and the fix', async (t) => {
  const { runReal } = await import('../fuzz/real-cli.js');
  const deepFlow = `timeoutMs: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`)].join('\n');
  const files: Record<string, string> = {
    'alias.yaml': 'timeoutMs: *foo:\n',
    'dup.yaml': 'timeoutMs: 1000\ntimeoutMs: 2000\n',
    'tab.yaml': 'dns:\n\tservers: []\n',
    'laughs.yaml': `${laughs}\n`,
    'deep-flow.yaml': deepFlow,
    'deep-block.yaml': `${'- '.repeat(20_000)}x\n`,
    'deep.json': `{"dns": {"servers": ${'['.repeat(50_000)}${']'.repeat(50_000)}}}`,
    'type.yaml': 'timeoutMs: [1, 2]\n',
    'key.yaml': '? {a: 1, b: 2}\n: x\n',
    'web-alias.yml': 'basic_auth_users: *u:\n',
    'web-deep.yml': `http_server_config: ${'{"a":'.repeat(30_000)}1${'}'.repeat(30_000)}\n`,
    'web-type.yml': 'tls_server_config: [cert.pem]\n',
    'agent-web.yaml': '', // filled below: an agent config naming a bad web config
  };
  const dir = t.testdir(files);
  const f = (name: string): string => join(dir, name);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(f('agent-web.yaml'), `agent:\n  listen: 127.0.0.1:0\n  webConfigFile: ${f('web-alias.yml')}\n`);
  const diagnose = (file: string): string[] => ['diagnose', 'mi1.0a1b2c3d4e5f.database.windows.net', '--dns-server', '127.0.0.1', '--config', f(file)];
  const agent = (args: string[]): string[] => ['agent', '--listen', '127.0.0.1:0', '--instance', 'mi1.0a1b2c3d4e5f.database.windows.net', '--dns-server', '127.0.0.1', ...args];
  const cases: Array<[string, string[], RegExp]> = [
    ['alias ending in ":"', diagnose('alias.yaml'), /config file .*alias\.yaml is not valid YAML\/JSON: line 1, column \d+: Alias ending in : is ambiguous \(fix: .*\*name/],
    ['duplicate key', diagnose('dup.yaml'), /dup\.yaml is not valid YAML\/JSON: line 2, column 1: Map keys must be unique \(fix: remove one of the two entries\)/],
    ['tab indentation', diagnose('tab.yaml'), /tab\.yaml is not valid YAML\/JSON: line 2, column 1: Tabs are not allowed as indentation \(fix: indent with spaces/],
    ['billion laughs', diagnose('laughs.yaml'), /laughs\.yaml is not valid YAML\/JSON: Excessive alias count .*\(fix: write the values out/],
    ['100,000 brackets deep', diagnose('deep-flow.yaml'), /deep-flow\.yaml line 1, column \d+: nested more than 64 levels deep \(fix: flatten it/],
    ['20,000 "- " deep', diagnose('deep-block.yaml'), /deep-block\.yaml line 1, column 1: nested more than 64 levels deep/],
    ['deep JSON', diagnose('deep.json'), /deep\.json line 1, column \d+: nested more than 64 levels deep/],
    ['wrong type', diagnose('type.yaml'), /invalid configuration \(from .*type\.yaml.*\): timeoutMs: .*expected number, received array/],
    ['a mapping as a key', diagnose('key.yaml'), /key\.yaml.*: unknown key\(s\) "\{/],
    ['agent config', agent(['--config', f('alias.yaml')]), /config file .*alias\.yaml is not valid YAML\/JSON: line 1, column \d+: Alias ending in : is ambiguous/],
    ['agent config too deep', agent(['--config', f('deep-flow.yaml')]), /deep-flow\.yaml line 1, column \d+: nested more than 64 levels deep/],
    ['web config alias', agent(['--web-config', f('web-alias.yml')]), /web config file .*web-alias\.yml is not valid YAML\/JSON: line 1, column \d+: Alias ending in : is ambiguous/],
    ['web config too deep', agent(['--web-config', f('web-deep.yml')]), /web config file .*web-deep\.yml line 1, column \d+: nested more than 64 levels deep/],
    ['web config wrong type', agent(['--web-config', f('web-type.yml')]), /invalid web config file .*web-type\.yml: tls_server_config: .*expected object/],
    ['web config named by the agent config', agent(['--config', f('agent-web.yaml')]), /web config file .*web-alias\.yml is not valid YAML\/JSON: line 1/],
  ];
  const runs = await Promise.all(cases.map(([, argv]) => runReal(argv)));
  cases.forEach(([label, , pattern], i) => {
    const r = runs[i] as { code: number; stdout: string; stderr: string; ms: number };
    t.equal(r.code, 2, `${label}: exit 2`);
    t.match(r.stderr, pattern, `${label}: the line names the problem`);
    t.equal(r.stderr.trimEnd().split('\n').length, 1, `${label}: one line (${JSON.stringify(r.stderr.slice(0, 300))})`);
    t.notMatch(r.stderr, /YAMLWarning|\(node:\d+\)|internal error|\n\s+at /, `${label}: no raw warning, no stack, no internal error`);
    t.equal(r.stdout, '', `${label}: nothing on stdout`);
  });
});
