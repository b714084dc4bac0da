// `miprobe agent --check-config FILE`, as `promtool check config`: exit 0 and
// one line when valid, 2 with the key at fault when not; nothing is started.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => { out += s; return true; } }, stderr: { write: (s: string) => { err += s; return true; } }, env });
  return { code, out, err };
}

t.test('valid files: exit 0 and one OK line; nothing listens', async (t) => {
  const dir = t.testdir({ 'reporting-password': 'x\n', 'web.yml': 'basic_auth_users: { prometheus: "$2b$10$cDHCTZG7Y6F5xW3lnS6j.ed/9/VPg2xD36t5ZtP/JeRXYSZ7HFIh." }\n' });
  // The shipped example, with its password file pointed at one that exists here.
  const example = (await readFile(join(ROOT, 'config/agent.example.yaml'), 'utf8'))
    .replace('/var/run/secrets/miprobe/reporting-password', join(dir, 'reporting-password'))
    .replace('# webConfigFile: /etc/miprobe/web.yml', `webConfigFile: ${join(dir, 'web.yml')}`)
    // A port that is certainly taken by nothing: the check must not bind it anyway.
    .replace('listen: ":9433"', 'listen: "127.73.40.1:9"');
  await writeFile(join(dir, 'agent.yaml'), example);
  const r = await run(['agent', '--check-config', join(dir, 'agent.yaml')]);
  t.equal(r.code, 0, r.err);
  t.equal(r.err, '');
  t.equal(r.out.split('\n').filter(Boolean).length, 1, 'one line');
  t.match(r.out, new RegExp(`^OK: ${join(dir, 'agent.yaml').replaceAll('/', '\\/')} is a valid agent configuration: 2 instance\\(s\\); listen 127\\.73\\.40\\.1:9 \\(basic auth\\); /probe: configured instances and \\*\\.0a1b2c3d4e5f\\.database\\.windows\\.net; allowCidrs: 10\\.20\\.0\\.0/16, 168\\.63\\.129\\.16/32\\n$`));
  const text = await readFile(join(ROOT, 'config/agent.example.yaml'), 'utf8');
  t.match(text, /miprobe agent --check-config/, 'the example says how to check it');
  t.notMatch(text, /--config f --help/, 'and no longer that --help validates');
});

t.test('invalid files: exit 2 with the key at fault', async (t) => {
  const dir = t.testdir({
    'listen.yaml': 'instances: [{fqdn: mi1.z.database.windows.net}]\nagent: {listen: "nope"}\n',
    'pattern.yaml': 'instances: [{fqdn: mi1.z.database.windows.net}]\nagent: {probeTargets: ["*"]}\n',
    'unknown.yaml': 'instances: [{fqdn: mi1.z.database.windows.net}]\nagent: {lisen: ":9433"}\n',
    'empty.yaml': 'timeoutMs: 5000\n',
    'secret.yaml': 'instances: [{fqdn: mi1.z.database.windows.net}, {fqdn: mi2.z.database.windows.net, login: sql, user: u, passwordFile: /nonexistent/pw}]\n',
    'ca.yaml': 'probe: {caFile: /nonexistent/ca.pem}\ninstances: [{fqdn: mi1.z.database.windows.net}]\n',
    'web.yml': 'tls_server_config: {cert_file: server.crt}\n',
    'yaml.yaml': 'instances: [\n',
  });
  await writeFile(join(dir, 'web.yaml'), `instances: [{fqdn: mi1.z.database.windows.net}]\nagent: {webConfigFile: ${join(dir, 'web.yml')}}\n`);
  const cases: Array<[string, RegExp]> = [
    ['listen.yaml', /agent\.listen: expected host:port/],
    ['pattern.yaml', /agent\.probeTargets\[0\]: expected a host name or "\*\.<domain>"/],
    ['unknown.yaml', /agent: unknown key\(s\) "lisen"/],
    ['empty.yaml', /instances: the agent has no instance to watch/],
    ['secret.yaml', /instances\[1\] \(mi2\.z\.database\.windows\.net\): cannot read the password file \/nonexistent\/pw/],
    ['ca.yaml', /probe\.caFile: cannot read the CA file \/nonexistent\/ca\.pem/],
    ['web.yaml', /tls_server_config\.key_file/],
    ['yaml.yaml', /is not valid YAML/],
    ['missing.yaml', /cannot read config file/],
  ];
  for (const [file, message] of cases) {
    const r = await run(['agent', '--check-config', join(dir, file)], { MIPROBE_ALLOW_CIDRS: '127.0.0.0/8' });
    t.equal(r.code, 2, `${file}: exit 2`);
    t.equal(r.out, '', `${file}: nothing on stdout`);
    t.match(r.err, message, `${file}: ${r.err.trim()}`);
    t.notMatch(r.err, /\n\s+at /, `${file}: no stack trace`);
  }
  const both = await run(['agent', '--check-config', join(dir, 'listen.yaml'), '--config', join(dir, 'listen.yaml')]);
  t.equal(both.code, 2);
  t.match(both.err, /give the file to check with --check-config alone/);
});
