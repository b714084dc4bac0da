// End to end: a simulated network (one resolver serving three instances:
// healthy, resolving to a public address, and nonexistent), the agent, and a
// real Prometheus scraping it every second. Asserts the values Prometheus
// stores, evaluates every alerts.yml and dashboard.json expression, runs
// `promtool check metrics`, then reloads (good and bad) and shuts down.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { createServer } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { makeGatewayCerts } from '../../src/sim/gateway-certs.js';
import { createSimPki, type SimPki } from '../../src/sim/pki.js';
import { startTdsGateway } from '../../src/sim/tds-gateway.js';
import { startDnsServer } from '../../src/sim/dns-server.js';
import { buildMiZone } from '../../src/sim/mi-zone.js';
import { startAgent, waitFor, writeConfig } from '../helpers/agent.js';
import { hasBinary, PROMETHEUS, PROMTOOL, startPrometheus, type QueryResult } from '../helpers/prometheus.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BLOCK = '127.70.1';
const ZONE = '0a1b2c3d4e5f';
const GOOD = `good.${ZONE}.database.windows.net`;
const BAD = `bad.${ZONE}.database.windows.net`;
const MISSING = `missing.${ZONE}.database.windows.net`;

const value = (r: QueryResult[], match: Record<string, string>): number | undefined => {
  const hit = r.find((x) => Object.entries(match).every(([k, v]) => x.metric[k] === v));
  return hit ? Number(hit.value[1]) : undefined;
};

t.test('agent + real Prometheus', { skip: hasBinary(PROMETHEUS) && hasBinary(PROMTOOL) ? false : 'prometheus/promtool not installed' }, async (t) => {
  const dns = await startDnsServer({ host: `${BLOCK}.53`, port: 0, records: [
    ...buildMiZone({ miName: 'good', zoneId: ZONE, region: 'westeurope', ilbAddress: `${BLOCK}.4`, managementAddress: `${BLOCK}.200` }),
    ...buildMiZone({ miName: 'bad', zoneId: ZONE, region: 'northeurope', ilbAddress: '203.0.113.10' }),
  ] });
  t.teardown(() => dns.close());
  // The healthy instance's gateway (TDS, TLS with a certificate for its name, which lists its CA's CRL, as real
  // gateways' do) and the CRL server: the agent's revocation check reads the chain's CRLs, and a platform endpoint
  // must prove the service by serving a real CRL (any HTTP answer does not count).
  let pki: SimPki | undefined;
  const crl = createServer((req, res) => {
    if (!pki) return void res.writeHead(503).end();
    void pki.crl(req.url?.includes('root') ? 'root' : 'intermediate').then((der) => { res.writeHead(200, { 'content-type': 'application/pkix-crl' }); res.end(der); });
  });
  await new Promise<void>((r) => crl.listen({ host: `${BLOCK}.80`, port: 0 }, r));
  t.teardown(() => crl.close());
  const crlBase = `http://${BLOCK}.80:${(crl.address() as { port: number }).port}/pkiops/crl`;
  pki = await createSimPki({ name: 'e2e', crlUrl: `${crlBase}/issuing.crl`, rootCrlUrl: `${crlBase}/root.crl` });
  const certs = await makeGatewayCerts([GOOD], pki);
  const gateway = await startTdsGateway({ host: `${BLOCK}.4`, port: 1433, certPem: certs.valid.certPem, keyPem: certs.valid.keyPem, chainPem: certs.valid.chainPem });
  t.teardown(() => gateway.close());
  const tmp = await mkdtemp(join(tmpdir(), 'miprobe-e2e-'));
  await writeFile(join(tmp, 'ca.pem'), certs.caPem);
  const base = {
    allowCidrs: ['127.0.0.0/8'], timeoutMs: 2500,
    dns: { servers: [`${BLOCK}.53:${dns.endpoint.port}`], requiredNames: [] },
    probe: { subnet: `${BLOCK}.0/26`, caFile: join(tmp, 'ca.pem'), revocationUrls: [`${crlBase}/test.crl`] },
    agent: { listen: `${BLOCK}.1:0`, jitterSeconds: 0.2, shutdownGraceMs: 3000,
      schedules: { nameResolution: { cron: '* * * * * *' }, dataPath: { cron: '*/2 * * * * *' }, management: { cron: '*/5 * * * * *' }, revocation: { cron: '*/5 * * * * *' } } },
    instances: [{ fqdn: GOOD, labels: { team: 'payments' } }, { fqdn: BAD }, { fqdn: MISSING }],
  };
  const configPath = await writeConfig(base);
  const agent = await startAgent(['--config', configPath]);
  let stopped = false;
  t.teardown(async () => { if (!stopped) await agent.stop(); });
  const agentAddress = agent.url.replace(/^http:\/\//, '');

  const prom = await startPrometheus({ host: `${BLOCK}.2`, ruleFiles: [join(ROOT, 'config/prometheus/alerts.yml')], scrapeConfigs: [
    { job_name: 'miprobe', honor_labels: true, static_configs: [{ targets: [agentAddress] }] },
    { job_name: 'miprobe-probe', metrics_path: '/probe', scrape_interval: '3s', scrape_timeout: '3s', params: { module: ['dataPath'] }, static_configs: [{ targets: [GOOD, BAD] }],
      relabel_configs: [{ source_labels: ['__address__'], target_label: '__param_target' }, { source_labels: ['__param_target'], target_label: 'instance' },
        { target_label: '__address__', replacement: agentAddress }] },
  ] });
  t.teardown(() => prom.stop());

  await t.test('Prometheus stores the values each scenario produces', async (t) => {
    const success = await prom.waitFor('miprobe_check_success', (r) => r.length >= 12);
    const status = await (await fetch(`${agent.url}/api/v1/status`)).json() as { instances: Array<{ fqdn: string; findings: Array<{ id: string; evidence: string }> }> };
    t.same(status.instances.find((i) => i.fqdn === GOOD)?.findings.map((f) => `${f.id} ${f.evidence}`), [], 'the healthy instance has no finding');
    for (const check of ['nameResolution', 'dataPath', 'management', 'revocation']) {
      t.equal(value(success, { instance: GOOD, check }), 1, `healthy instance: ${check} succeeds`);
      t.equal(value(success, { instance: BAD, check }), 0, `public address: ${check} fails`);
      t.equal(value(success, { instance: MISSING, check }), 0, `nonexistent name: ${check} fails`);
    }
    const findings = await prom.query('miprobe_finding');
    t.equal(value(findings, { instance: BAD, id: 'DNS-003', severity: 'critical' }), 1, 'DNS-003 on the public-address instance');
    t.equal(value(findings, { instance: MISSING, id: 'DNS-001', severity: 'critical' }), 1, 'DNS-001 on the missing instance');
    t.equal(findings.filter((f) => f.metric.instance === GOOD).length, 0, 'no finding on the healthy instance');
    const info = await prom.query('miprobe_instance_info');
    t.equal(value(info, { instance: GOOD, team: 'payments', kind: 'vnet-local' }), 1, 'config labels on the _info metric');
    const dnsOk = await prom.query('miprobe_dns_resolve_success{role="custom"}');
    t.equal(value(dnsOk, { instance: GOOD }), 1);
    t.equal(value(dnsOk, { instance: MISSING }), 0);
    t.equal(value(await prom.query('miprobe_management_endpoint_present'), { instance: GOOD }), 1);
    const lat = await prom.query(`miprobe_dns_lookup_duration_seconds{instance="${GOOD}",job="miprobe"}`);
    t.ok(lat.length === 1 && Number(lat[0]?.value[1]) > 0 && Number(lat[0]?.value[1]) < 1, 'a plausible lookup time');
    const fresh = await prom.query('time() - miprobe_check_last_completed_timestamp_seconds{check="dataPath"}');
    t.ok(fresh.every((r) => Number(r.value[1]) < 10), 'results are fresh');
    t.equal(value(await prom.query('miprobe_build_info'), {}), 1, 'build info');
    t.equal(value(await prom.query('miprobe_instances'), {}), 3);
    const runs = await prom.waitFor('sum(miprobe_checks_total{check="dataPath"})', (r) => Number(r[0]?.value[1]) >= 9);
    t.ok(Number(runs[0]?.value[1]) >= 9, 'the two-second schedule keeps running');
    t.ok(Number(value(await prom.query('process_resident_memory_bytes{job="miprobe"}'), {})) > 0, 'process_* metrics');
    // /probe through Prometheus' relabelling
    const probe = await prom.waitFor('probe_success', (r) => value(r, { instance: GOOD }) === 1 && r.length === 2);
    t.equal(value(probe, { instance: GOOD, job: 'miprobe-probe' }), 1, '/probe: healthy');
    t.equal(value(probe, { instance: BAD, job: 'miprobe-probe' }), 0, '/probe: public address');
    t.equal(value(await prom.query('miprobe_finding{job="miprobe-probe"}'), { instance: BAD, id: 'DNS-003' }), 1, '/probe findings carry the relabelled instance');
  });

  await t.test('every alerts.yml expression evaluates, and returns data where the scenario makes it', async (t) => {
    const rules = YAML.parse(await readFile(join(ROOT, 'config/prometheus/alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    const all = rules.groups.flatMap((g) => g.rules);
    // What the scenario produces: the instances an alert should name (empty: none), or a section not in the report yet.
    const exposed = await (await fetch(`${agent.url}/metrics`)).text();
    const has = (name: string): boolean => new RegExp(`^${name}\\{`, 'm').test(exposed);
    const expect: Record<string, { fires: string[] } | { needs: string }> = {
      MiprobeDataPathUnreachable: { fires: [BAD, MISSING] },
      MiprobeNameResolvesToPublicAddress: { fires: [BAD] },
      MiprobeCriticalFinding: { fires: [BAD, MISSING] },
      MiprobeCertificateRevoked: { needs: 'miprobe_revocation_status' },
      MiprobeRevocationEndpointUnreachable: { needs: 'miprobe_revocation_endpoint_up' },
      MiprobeCertificateExpiringSoon: { needs: 'miprobe_tls_certificate_expiry_timestamp_seconds' },
      MiprobeManagementPortOpen: { needs: 'miprobe_port_state' },
      MiprobeCheckFailing: { fires: [] },
      MiprobeAgentDown: { fires: [] },
      MiprobeChecksStale: { fires: [] },
      MiprobeConfigReloadFailed: { fires: [] },
    };
    t.same(Object.keys(expect).sort(), all.map((r) => r.alert).sort(), 'every rule has an expectation');
    for (const rule of all) {
      const e = expect[rule.alert];
      const result = await prom.query(rule.expr);
      if (e && 'fires' in e) {
        t.same([...new Set(result.map((r) => r.metric.instance))].sort(), [...e.fires].sort(), `${rule.alert}: ${e.fires.length ? 'returns the failing instances' : 'returns nothing in these scenarios'}`);
        // The metric under a rule that stays quiet must still exist, or the rule could never fire.
        const selector = /\b(miprobe_[a-z_]+|up)\b/.exec(rule.expr)?.[1] ?? '';
        t.ok((await prom.query(selector)).length > 0, `${rule.alert}: ${selector} has series`);
      } else if (e) {
        if (has(e.needs)) {
          t.same(result.map((r) => r.metric.instance), [], `${rule.alert}: quiet for these scenarios`);
          t.ok((await prom.query(e.needs)).length > 0, `${rule.alert}: ${e.needs} has series`);
        }
        else t.equal(result.length, 0, `${rule.alert}: evaluates; ${e.needs} is not in the report yet, so no data`);
      }
    }
  });

  await t.test('MiprobeChecksStale joins each result to its agent\'s schedule period', async (t) => {
    const rules = YAML.parse(await readFile(join(ROOT, 'config/prometheus/alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    const stale = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === 'MiprobeChecksStale');
    t.ok(stale, 'the rule exists');
    // The same join with a threshold every result exceeds: every instance and check comes back, so the labels match.
    const joined = (stale?.expr ?? '').replace('3 * miprobe_check_interval_seconds + 60', '0 * miprobe_check_interval_seconds - 1');
    t.not(joined, stale?.expr, 'threshold replaced');
    const all = await prom.query('miprobe_check_last_completed_timestamp_seconds');
    const matched = await prom.query(joined);
    t.ok(all.length > 0, 'there are results');
    t.equal(matched.length, all.length, 'every result finds its schedule period');
    const interval = await prom.query('miprobe_check_interval_seconds{check="dataPath"}');
    t.same(interval.map((r) => Number(r.value[1])), [2], 'the period the agent reports for its data path schedule (every 2 s)');
  });

  await t.test('every dashboard.json expression evaluates, with data when its metric is exposed', async (t) => {
    const dash = JSON.parse(await readFile(join(ROOT, 'config/grafana/dashboard.json'), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }>; templating: { list: Array<{ name: string; definition?: string }> } };
    const variable = dash.templating.list.find((v) => v.name === 'instance');
    const m = /label_values\((\w+), (\w+)\)/.exec(variable?.definition ?? '');
    const values = await prom.query(`group by (${m?.[2]}) (${m?.[1]})`);
    t.same(values.map((v) => v.metric.instance).sort(), [BAD, GOOD, MISSING].sort(), 'the instance variable lists the instances');
    const exposed = await (await fetch(`${agent.url}/metrics`)).text();
    for (const panel of dash.panels) {
      for (const target of panel.targets) {
        const expr = target.expr.replaceAll('$instance', '.*');
        const metric = /(miprobe_[a-z_]+|process_[a-z_]+)/.exec(expr)?.[1] ?? '';
        const family = metric.replace(/_bucket$/, '');
        if (new RegExp(`^${family}(_bucket)?\\{|^${family} `, 'm').test(exposed)) {
          // rate() needs two scrapes after a counter first appears: give Prometheus a few more seconds.
          const result = await prom.waitFor(expr, (r) => r.length > 0, 10_000);
          t.ok(result.length > 0, `${panel.title}: ${expr} returns data`);
        } else {
          t.equal((await prom.query(expr)).length, 0, `${panel.title}: evaluates; ${family} not in the report yet`);
        }
      }
    }
  });

  await t.test('promtool check metrics finds no problem in /metrics', async (t) => {
    const text = await (await fetch(`${agent.url}/metrics`)).text();
    const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    t.equal(r.status, 0, 'promtool exit 0');
    t.equal(`${r.stdout}${r.stderr}`.trim(), '', 'no lint messages');
    const probe = await (await fetch(`${agent.url}/probe?target=${BAD}&module=all`)).text();
    const p = spawnSync(PROMTOOL, ['check', 'metrics'], { input: probe, encoding: 'utf8' });
    t.equal(`${p.stdout}${p.stderr}`.trim(), '', '/probe output is clean too');
  });

  await t.test('SIGHUP reloads; a bad config is refused and the old one stays', async (t) => {
    await writeFile(configPath, YAML.stringify({ ...base, instances: [{ fqdn: GOOD, labels: { team: 'core' } }, { fqdn: BAD }] }));
    const ok = await agent.reload();
    t.equal(ok.msg, 'configuration reloaded');
    t.equal(ok.instances, 2);
    const n = await prom.waitFor('miprobe_instances', (r) => r[0]?.value[1] === '2');
    t.equal(n[0]?.value[1], '2', 'Prometheus sees two instances');
    const info = await prom.waitFor(`miprobe_instance_info{instance="${GOOD}"}`, (r) => r[0]?.metric.team === 'core');
    t.equal(info[0]?.metric.team, 'core', 'new labels');

    await writeFile(configPath, 'instances: [{fqdn: "10.0.0.4"}]\nagent: {concurrency: -1}\n');
    const bad = await agent.reload();
    t.match(String(bad.msg), /configuration reload failed; keeping the previous configuration/);
    t.match(String(bad.err), /agent\.concurrency/, 'the log names the bad key');
    const flag = await prom.waitFor('miprobe_config_last_reload_successful', (r) => r[0]?.value[1] === '0');
    t.equal(flag[0]?.value[1], '0', 'reload failure is visible');
    const still = await prom.query('miprobe_instances');
    t.equal(still[0]?.value[1], '2', 'the previous config still runs');
    const after = (await prom.query('sum(miprobe_checks_total)'))[0]?.value[1];
    await new Promise((r) => setTimeout(r, 2500));
    t.ok(Number((await prom.query('sum(miprobe_checks_total)'))[0]?.value[1]) > Number(after), 'checks keep running');
    await writeFile(configPath, YAML.stringify(base));
  });

  await t.test('state changes are logged once, as JSON, with no secret', async (t) => {
    const changes = agent.logs().filter((l) => l.msg === 'check state changed');
    const bad = changes.filter((l) => l.instance === BAD && l.check === 'nameResolution');
    t.equal(bad.length, 1, 'one line for the failing instance (its state never changed after)');
    t.equal(bad[0]?.level, 'warn');
    t.equal(bad[0]?.state, 'failing');
    t.ok((bad[0]?.findings as Array<{ id: string }>).some((f) => f.id === 'DNS-003'), 'with the finding that makes it fail');
    t.notMatch(JSON.stringify(agent.logs()), /password|token|secret/i);
  });

  await t.test('SIGTERM: schedules stop, server closes, exit 0; Prometheus sees the agent down', async (t) => {
    const code = await agent.stop();
    stopped = true;
    t.equal(code, 0);
    t.ok(agent.logs().some((l) => l.msg === 'agent stopped'));
    await t.rejects(fetch(`${agent.url}/healthz`, { signal: AbortSignal.timeout(1000) }), 'the port is closed');
    const up = await prom.waitFor('up{job="miprobe"}', (r) => r[0]?.value[1] === '0');
    t.equal(up[0]?.value[1], '0');
    const down = await prom.waitFor('ALERTS{alertname="MiprobeAgentDown"}', (r) => r.length > 0, 5000);
    t.equal(down[0]?.metric.alertstate, 'pending', 'MiprobeAgentDown is pending (it fires after 2m)');
  });
  await waitFor(() => true, 10, 'noop');
});
