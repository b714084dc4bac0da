// /probe is fenced: configured instances and agent.probeTargets patterns pass,
// anything else gets 403 with a one-line reason; agent.probeAnyTarget opens it
// (and says so at start). With allowCidrs empty the agent keeps to the VNet
// ranges; the shipped configs name their ranges and never open /probe.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { ProbeFence } from '../../src/agent/probe-fence.js';
import { loadConfig } from '../../src/config/load.js';
import { startDnsServer } from '../../src/sim/dns-server.js';
import { buildMiZone } from '../../src/sim/mi-zone.js';
import { startAgent, waitFor, writeConfig } from '../helpers/agent.js';
import { runCli } from '../helpers/capture.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BLOCK = '127.73.30';
const ZONE = '0a1b2c3d4e5f';
const KNOWN = `known.${ZONE}.database.windows.net`;
const SIBLING = `sibling.${ZONE}.database.windows.net`;
const ELSEWHERE = 'other.ffffffffffff.database.windows.net';

t.test('the fence: names and one-label patterns', async (t) => {
  const fence = new ProbeFence([KNOWN], [`*.${ZONE}.database.windows.net`, 'exact.example.com'], false);
  t.same(fence.check(KNOWN), { allowed: true });
  t.same(fence.check(SIBLING), { allowed: true }, 'the pattern admits a sibling in the zone');
  t.same(fence.check('exact.example.com'), { allowed: true });
  for (const name of [ELSEWHERE, `a.b.${ZONE}.database.windows.net`, `${ZONE}.database.windows.net`, 'x.exact.example.com', `evil${ZONE}.database.windows.net`]) {
    const answer = fence.check(name);
    t.equal(answer.allowed, false, `${name} is refused`);
    if (!answer.allowed) t.match(answer.reason, /^target ".+" is not a configured instance and matches no agent\.probeTargets pattern/);
  }
  t.same(new ProbeFence([], [], true).check(ELSEWHERE), { allowed: true }, 'probeAnyTarget opens it');
});

t.test('the schema refuses patterns that are not a name or *.<domain>', async (t) => {
  for (const bad of ['*', '*.com*', 'a.*.b.com', '**.b.com', 'nodots']) {
    await t.rejects(loadConfig({ env: {}, flags: { agent: { probeTargets: [bad] } } }), /agent\.probeTargets\[0\]: expected a host name or "\*\.<domain>"/, bad);
  }
});

t.test('/probe over HTTP: 200 inside the fence, 403 with one line outside; probeAnyTarget opens it and says so', async (t) => {
  const dns = await startDnsServer({ host: `${BLOCK}.53`, port: 0, records: [
    ...buildMiZone({ miName: 'known', zoneId: ZONE, region: 'westeurope', ilbAddress: `${BLOCK}.4` }),
    ...buildMiZone({ miName: 'sibling', zoneId: ZONE, region: 'westeurope', ilbAddress: `${BLOCK}.5` }),
  ] });
  t.teardown(() => dns.close());
  const base = {
    allowCidrs: ['127.0.0.0/8'], timeoutMs: 2000, dns: { servers: [`${BLOCK}.53:${dns.endpoint.port}`], requiredNames: [], retries: 0 },
    probe: { subnet: `${BLOCK}.0/24` }, instances: [{ fqdn: KNOWN }],
    agent: { listen: `${BLOCK}.1:0`, schedules: { nameResolution: { enabled: false }, dataPath: { enabled: false }, management: { enabled: false }, revocation: { enabled: false } } },
  };
  const fenced = await startAgent(['--config', await writeConfig({ ...base, agent: { ...base.agent, probeTargets: [`*.${ZONE}.database.windows.net`] } })]);
  t.teardown(() => fenced.stop());
  const get = async (url: string): Promise<{ status: number; body: string }> => {
    const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    return { status: r.status, body: await r.text() };
  };
  t.equal((await get(`${fenced.url}/probe?target=${KNOWN}&module=nameResolution`)).status, 200, 'a configured instance');
  const sibling = await get(`${fenced.url}/probe?target=${SIBLING}&module=nameResolution`);
  t.equal(sibling.status, 200, 'a name matching agent.probeTargets');
  t.match(sibling.body, /^probe_success 1$/m);
  const refused = await get(`${fenced.url}/probe?target=${ELSEWHERE}&module=nameResolution`);
  t.equal(refused.status, 403);
  t.equal(refused.body.trimEnd().split('\n').length, 1, 'one line');
  t.match(refused.body, `target "${ELSEWHERE}" is not a configured instance and matches no agent.probeTargets pattern`);
  t.match((await get(`${fenced.url}/metrics`)).body, /^miprobe_probe_requests_total\{module="nameResolution"\} 2$/m, 'the refused request probed nothing');
  const started = fenced.logs().find((l) => l.msg === 'agent started');
  t.same(started?.probeTargets, ['configured instances', `*.${ZONE}.database.windows.net`], 'the start line says what /probe accepts');
  t.notOk(fenced.logs().some((l) => l.level === 'warn'), 'a fenced start logs no warning');

  const open = await startAgent(['--config', await writeConfig({ ...base, agent: { ...base.agent, listen: `${BLOCK}.2:0`, probeAnyTarget: true } })]);
  t.teardown(() => open.stop());
  const anyName = await get(`${open.url}/probe?target=${SIBLING}&module=nameResolution`);
  t.equal(anyName.status, 200, 'probeAnyTarget: an unlisted name is probed');
  t.ok(open.logs().some((l) => l.level === 'warn' && /agent\.probeAnyTarget: true/.test(String(l.msg))), 'the risk is logged at start');
});

t.test('allowCidrs empty: the agent keeps to the VNet ranges (a loopback resolver is not even asked)', async (t) => {
  const dns = await startDnsServer({ host: `${BLOCK}.54`, port: 0, records: buildMiZone({ miName: 'known', zoneId: ZONE, region: 'westeurope', ilbAddress: `${BLOCK}.4` }) });
  t.teardown(() => dns.close());
  const resolver = `${BLOCK}.54:${dns.endpoint.port}`;
  const azure = await startDnsServer({ host: `${BLOCK}.55`, port: 0, records: [] });
  t.teardown(() => azure.close());
  const body = {
    dns: { servers: [resolver], requiredNames: [], retries: 0 }, timeoutMs: 1000,
    instances: [{ fqdn: KNOWN }],
    agent: { listen: `${BLOCK}.3:0`, jitterSeconds: 0, schedules: { dataPath: { enabled: false }, management: { enabled: false }, revocation: { enabled: false } } },
  };
  // No MIPROBE_ALLOW_CIDRS here: the agent's own default applies. The only resolver is on loopback, outside it:
  // the agent would look nothing up, so it does not start (exit 2 naming the key), and --check-config says so.
  const config = await writeConfig(body);
  const refused = await startAgent(['--config', config], { MIPROBE_ALLOW_CIDRS: '' }).then(() => 'started', (e: Error) => e.message);
  t.match(refused, new RegExp(`agent exited with 2: miprobe: dns\\.servers: no resolver can be queried: ${resolver.replace(/\./g, '\\.')} is outside the allowed ranges \\(10\\.0\\.0\\.0/8, `));
  const check = await runCli(['agent', '--check-config', config], { MIPROBE_ALLOW_CIDRS: '' });
  t.equal(check.code, 2, '--check-config fails it too');
  t.match(check.stderr, /dns\.servers: no resolver can be queried/);
  t.equal(dns.queryCount(), 0, 'no query reached the loopback resolver');
  // With a second resolver that may be asked (listed in allowCidrs), it starts; the one outside is reported, not asked.
  const second = await writeConfig({ ...body, allowCidrs: [`${BLOCK}.55/32`, `${BLOCK}.3/32`],
    dns: { ...body.dns, servers: [resolver, `${BLOCK}.55:${azure.endpoint.port}`] } });
  const agent = await startAgent(['--config', second], { MIPROBE_ALLOW_CIDRS: '' });
  t.teardown(() => agent.stop());
  const line = await waitFor(() => agent.logs().find((l) => l.msg === 'check state changed' && l.check === 'nameResolution'), 10_000, 'the first run');
  const ids = (line.findings as Array<{ id: string }>).map((f) => f.id);
  t.ok(ids.includes('DNS-014'), `the resolver outside the ranges is reported, not asked (${ids.join(', ')})`);
  t.equal(dns.queryCount(), 0, 'no query reached the loopback resolver');
});

t.test('shipped configs: explicit ranges, /probe fenced, TLS and basic auth in the Kubernetes manifests', async (t) => {
  const example = await loadConfig({ file: join(ROOT, 'config/agent.example.yaml'), env: {}, flags: {} });
  t.ok(example.allowCidrs.length > 0, 'the example names its ranges');
  t.notOk(example.allowCidrs.some((c) => /\/0$/.test(c)), 'and none of them is everything');
  t.equal(example.agent.probeAnyTarget, false);
  t.ok(example.agent.probeTargets.length > 0, 'the example shows a probeTargets pattern');
  const cm = YAML.parse(await readFile(join(ROOT, 'config/kubernetes/configmap.yaml'), 'utf8')) as { data: Record<string, string> };
  const shipped = YAML.parse(cm.data['agent.yaml'] ?? '') as { allowCidrs?: string[]; agent?: { webConfigFile?: string; probeAnyTarget?: boolean } };
  t.ok((shipped.allowCidrs ?? []).length > 0 && !(shipped.allowCidrs ?? []).some((c) => /\/0$/.test(c)), 'the ConfigMap names its ranges');
  t.notOk(shipped.agent?.probeAnyTarget, 'the ConfigMap keeps /probe fenced');
  t.ok(shipped.agent?.webConfigFile, 'the ConfigMap points at a web config');
  const web = YAML.parse(cm.data['web.yml'] ?? '') as { tls_server_config?: { cert_file?: string }; basic_auth_users?: Record<string, string> };
  t.ok(web.tls_server_config?.cert_file, 'the web config turns TLS on');
  t.ok(Object.values(web.basic_auth_users ?? {}).every((h) => /^\$2[aby]\$\d\d\$/.test(h)) && Object.keys(web.basic_auth_users ?? {}).length > 0, 'and basic auth, with bcrypt hashes');
  const deployment = await readFile(join(ROOT, 'config/kubernetes/deployment.yaml'), 'utf8');
  t.match(deployment, /scheme: HTTPS/, 'the probes speak HTTPS');
  t.match(deployment, /secretName: miprobe-agent-tls/, 'the certificate comes from a Secret');
  const sm = await readFile(join(ROOT, 'config/kubernetes/servicemonitor.yaml'), 'utf8');
  t.match(sm, /scheme: https/);
  t.match(sm, /basicAuth:/);
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  t.match(readme, /basic_auth_users/, 'the README shows basic auth');
  t.match(readme, /tls_server_config/, 'and TLS');
  const doc = await readFile(join(ROOT, 'docs/agent.md'), 'utf8');
  const safely = doc.slice(doc.indexOf('## Running it safely'));
  t.ok(doc.includes('## Running it safely'), 'docs/agent.md has the section');
  for (const topic of [/listen/, /tls_server_config/, /basic_auth_users/, /probeTargets/, /probeAnyTarget/, /allowCidrs/]) t.match(safely, topic);
});
