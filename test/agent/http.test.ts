// The agent's HTTP surface: /probe with bad targets and its limits, basic
// auth, TLS (and client certificates), slow and hostile clients, the status
// page's escaping, and the real executable's signals.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { pino } from 'pino';
import YAML from 'yaml';
import { Agent } from '../../src/agent/agent.js';
import { loadConfig } from '../../src/config/load.js';
import { startDnsServer } from '../../src/sim/dns-server.js';
import { buildMiZone } from '../../src/sim/mi-zone.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BLOCK = '127.70.2';
const FQDN = 'mi1.0a1b2c3d4e5f.database.windows.net';
const SILENT = 'slow.0a1b2c3d4e5f.database.windows.net';

interface Got { status: number; body: string; headers: Record<string, string | string[] | undefined> }

function get(url: string, opts: { ca?: string; cert?: string; key?: string; auth?: string; headers?: Record<string, string>; maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<Got> {
  if (url.startsWith('http:')) {
    return fetch(url, { headers: { ...opts.headers, ...(opts.auth ? { authorization: `Basic ${Buffer.from(opts.auth).toString('base64')}` } : {}) }, signal: AbortSignal.timeout(10_000) })
      .then(async (r) => ({ status: r.status, body: await r.text(), headers: Object.fromEntries(r.headers) }));
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca: opts.ca, cert: opts.cert, key: opts.key, maxVersion: opts.maxVersion, servername: 'localhost', timeout: 5000,
      headers: { ...opts.headers, ...(opts.auth ? { authorization: `Basic ${Buffer.from(opts.auth).toString('base64')}` } : {}) } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function makeCerts(dir: string): Promise<void> {
  const ossl = (args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }); };
  ossl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=miprobe test CA']);
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.70.2.1,IP:127.70.2.2\nextendedKeyUsage=serverAuth\n');
  await writeFile(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    ossl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who}`]);
    ossl(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '2', '-extfile', `${who}.ext`]);
  }
}

t.test('agent HTTP', async (t) => {
  const dns = await startDnsServer({ host: `${BLOCK}.53`, port: 0, records: [
    ...buildMiZone({ miName: 'mi1', zoneId: '0a1b2c3d4e5f', region: 'westeurope', ilbAddress: `${BLOCK}.4`, managementAddress: `${BLOCK}.200` }),
    ...buildMiZone({ miName: 'slow', zoneId: '0a1b2c3d4e5f', region: 'westeurope', ilbAddress: `${BLOCK}.5` }),
  ], behaviours: { [SILENT]: 'silent' } });
  t.teardown(() => dns.close());
  const dir = await mkdtemp(join(tmpdir(), 'miprobe-http-'));
  const configPath = join(dir, 'agent.yaml');
  const base = {
    allowCidrs: ['127.0.0.0/8'], timeoutMs: 3000, dns: { servers: [`${BLOCK}.53:${dns.endpoint.port}`], requiredNames: [], retries: 0 }, probe: { subnet: `${BLOCK}.0/26` },
    instances: [{ fqdn: FQDN, labels: { owner: '<script>alert("x")</script>' } }],
    agent: { listen: `${BLOCK}.1:0`, probeConcurrency: 1, jitterSeconds: 0, probeTargets: [SILENT], schedules: { dataPath: { enabled: false }, management: { enabled: false }, revocation: { enabled: false } } },
  };
  const start = async (extra: object = {}): Promise<Agent> => {
    await writeFile(configPath, YAML.stringify({ ...base, agent: { ...base.agent, ...extra } }));
    const agent = await Agent.start({ logger: pino({ level: 'silent' }), defaultMetrics: false, serverLimits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000 },
      loadConfig: () => loadConfig({ file: configPath, env: {}, flags: {} }) });
    t.teardown(() => agent.stop(500));
    return agent;
  };

  await t.test('/probe refuses bad input with 400 and a clear message', async (t) => {
    const agent = await start();
    const cases: Array<[string, RegExp]> = [
      ['/probe', /target parameter is missing/],
      ['/probe?target=', /target parameter is missing/],
      ['/probe?target=10.0.0.4', /is an IP address/],
      ['/probe?target=mi_1.zone.database.windows.net', /label "mi_1"/],
      ['/probe?target=localhost', /not a fully qualified name/],
      [`/probe?target=${'a'.repeat(300)}`, /too long/],
      [`/probe?target=${FQDN}&module=tcp_connect`, /unknown module "tcp_connect": expected one of nameResolution, dataPath, management, revocation, all/],
    ];
    for (const [path, message] of cases) {
      const r = await get(`${agent.url}${path}`);
      t.equal(r.status, 400, `${path.slice(0, 60)}: 400`);
      t.match(r.body, message);
    }
    const badHeader = await get(`${agent.url}/probe?target=${FQDN}`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': 'soon' } });
    t.equal(badHeader.status, 400);
    t.match(badHeader.body, /X-Prometheus-Scrape-Timeout-Seconds/);
  });

  await t.test('/probe honours the scrape timeout minus 0.5 s, and its concurrency limit', async (t) => {
    const agent = await start();
    const good = await get(`${agent.url}/probe?target=${FQDN}&module=nameResolution`);
    t.equal(good.status, 200);
    t.match(good.body, /^probe_success 1$/m);
    t.match(good.body, /^miprobe_dns_resolve_success\{resolver="[^"]+",role="custom"\} 1$/m, 'no instance label: Prometheus relabels it');
    const started = performance.now();
    const [slow, rejected] = await Promise.all([
      get(`${agent.url}/probe?target=${SILENT}`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '1.5' } }),
      new Promise<Got>((r) => setTimeout(() => { void get(`${agent.url}/probe?target=${FQDN}`).then(r); }, 200)),
    ]);
    const seconds = (performance.now() - started) / 1000;
    t.equal(slow.status, 200);
    t.match(slow.body, /^probe_success 0$/m, 'a silent resolver fails the probe');
    t.ok(seconds >= 0.9 && seconds < 1.5, `answered within the scrape timeout minus the offset (${seconds.toFixed(2)} s)`);
    t.equal(rejected.status, 503, 'the second concurrent /probe is refused (limit 1)');
    t.match(rejected.body, /too many concurrent \/probe requests \(limit 1\)/);
    t.match((await get(`${agent.url}/metrics`)).body, /^miprobe_probe_rejected_total 1$/m);
  });

  await t.test('status page escapes everything; status JSON; health', async (t) => {
    const agent = await start();
    await new Promise((r) => setTimeout(r, 300));
    const page = await get(`${agent.url}/`);
    t.equal(page.status, 200);
    t.notMatch(page.body, /<script>/, 'no markup from labels or evidence');
    t.match(page.body, new RegExp(FQDN.replaceAll('.', '\\.')));
    t.match(String(page.headers['content-security-policy']), /default-src 'none'/);
    const status = JSON.parse((await get(`${agent.url}/api/v1/status`)).body) as { instances: Array<{ fqdn: string; verdict: string; labels: Record<string, string> }> };
    t.equal(status.instances[0]?.fqdn, FQDN);
    t.equal(status.instances[0]?.verdict, 'healthy', JSON.stringify(status.instances[0]));
    t.equal(status.instances[0]?.labels.owner, '<script>alert("x")</script>', 'JSON keeps the value as data');
    t.equal((await get(`${agent.url}/healthz`)).status, 200);
    t.equal((await get(`${agent.url}/readyz`)).status, 200);
    t.equal((await get(`${agent.url}/nope`)).status, 404);
    const post = await fetch(`${agent.url}/metrics`, { method: 'POST', body: 'x'.repeat(1000) });
    t.equal(post.status, 405);
  });

  await t.test('slow and hostile clients', async (t) => {
    const agent = await start();
    const { port } = new URL(agent.url);
    // Slowloris: headers that never finish are cut off by the headers timeout (1 s here).
    const closedAfter = await new Promise<number>((resolve) => {
      const started = performance.now();
      const s = connect({ host: `${BLOCK}.1`, port: Number(port) }, () => { s.write('GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: '); });
      const drip = setInterval(() => { if (s.writable) s.write('a'); }, 200);
      s.on('data', () => undefined);
      s.on('close', () => { clearInterval(drip); resolve((performance.now() - started) / 1000); });
      s.on('error', () => undefined);
    });
    t.ok(closedAfter < 3.5, `a dripping client is disconnected (${closedAfter.toFixed(1)} s)`);
    const big = await new Promise<string>((resolve) => {
      const s = connect({ host: `${BLOCK}.1`, port: Number(port) }, () => { s.write(`GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`); });
      let got = '';
      s.on('data', (d: Buffer) => { got += d.toString(); });
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    t.match(big, /^HTTP\/1\.1 431/, 'oversized headers: 431');
    t.equal((await get(`${agent.url}/healthz`)).status, 200, 'still serving');
  });

  await t.test('basic auth (bcrypt) and extra headers from the web config', async (t) => {
    const web = join(dir, 'web-auth.yml');
    await writeFile(web, YAML.stringify({ basic_auth_users: { prometheus: bcrypt.hashSync('s3cret', 8) }, http_server_config: { headers: { 'X-Frame-Options': 'deny' } } }));
    const agent = await start({ webConfigFile: web });
    const none = await get(`${agent.url}/metrics`);
    t.equal(none.status, 401);
    t.match(String(none.headers['www-authenticate']), /^Basic realm="miprobe"/);
    t.equal((await get(`${agent.url}/metrics`, { auth: 'prometheus:wrong' })).status, 401);
    t.equal((await get(`${agent.url}/metrics`, { auth: 'nobody:s3cret' })).status, 401);
    const ok = await get(`${agent.url}/metrics`, { auth: 'prometheus:s3cret' });
    t.equal(ok.status, 200);
    t.equal(ok.headers['x-frame-options'], 'deny');
    t.equal((await get(`${agent.url}/probe?target=${FQDN}`)).status, 401, '/probe is protected too');
    t.equal((await get(`${agent.url}/healthz`)).status, 200, '/healthz stays open for health checks');
    t.equal((await get(`${agent.url}/readyz`)).status, 200, '/readyz too (the kubelet has no password)');
    t.equal((await get(`${agent.url}/`)).status, 401, 'the status page is protected');
    t.equal((await get(`${agent.url}/api/v1/status`)).status, 401, 'and the status JSON');
  });

  await t.test('TLS, minimum version, and client certificates', async (t) => {
    const certs = join(dir, 'certs');
    execFileSync('mkdir', ['-p', certs]);
    await makeCerts(certs);
    const ca = await readFile(join(certs, 'ca.crt'), 'utf8');
    const web = join(certs, 'web.yml');
    await writeFile(web, YAML.stringify({ tls_server_config: { cert_file: 'server.crt', key_file: 'server.key', min_version: 'TLS13' } }));
    const agent = await start({ webConfigFile: web });
    t.match(agent.url, /^https:/);
    const ok = await get(`${agent.url}/metrics`, { ca });
    t.equal(ok.status, 200);
    t.match(ok.body, /miprobe_build_info/);
    await t.rejects(get(`${agent.url}/metrics`, { ca, maxVersion: 'TLSv1.2' }), 'TLS 1.2 refused with min_version TLS13');
    await t.rejects(get(`${agent.url}/metrics`), 'an untrusted client refuses the certificate');

    await writeFile(web, YAML.stringify({ tls_server_config: { cert_file: 'server.crt', key_file: 'server.key', client_auth_type: 'RequireAndVerifyClientCert', client_ca_file: 'ca.crt' } }));
    const mtls = await start({ webConfigFile: web, listen: `${BLOCK}.2:0` });
    await t.rejects(get(`${mtls.url}/metrics`, { ca }), 'no client certificate: refused');
    const withCert = await get(`${mtls.url}/metrics`, { ca, cert: await readFile(join(certs, 'client.crt'), 'utf8'), key: await readFile(join(certs, 'client.key'), 'utf8') });
    t.equal(withCert.status, 200);

    // The container's HEALTHCHECK has no client certificate: the handshake that asks for one proves the agent alive.
    // A child process, not execFileSync: the agent under test runs in this process's event loop.
    const healthcheck = (url: string): Promise<number | null> => new Promise((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'dist/agent/healthcheck.js')], { env: { ...process.env, MIPROBE_HEALTHCHECK_URL: url }, stdio: 'ignore' });
      child.once('exit', (code) => resolve(code));
    });
    t.equal(await healthcheck(`${mtls.url}/healthz`), 0, 'HEALTHCHECK passes with RequireAndVerifyClientCert');
    t.equal(await healthcheck(`${agent.url}/healthz`), 0, 'HEALTHCHECK passes over TLS');
    t.equal(await healthcheck(`${agent.url}/nothing-here`), 1, 'HEALTHCHECK fails on anything but 200');
    t.equal(await healthcheck(`https://${BLOCK}.9:9/healthz`), 1, 'HEALTHCHECK fails when nothing listens');
    await writeFile(web, YAML.stringify({ tls_server_config: { cert_file: 'server.crt', key_file: 'server.key', client_auth_type: 'RequireAnyClientCert' } }));
    const anyCert = await start({ webConfigFile: web, listen: `${BLOCK}.5:0` });
    t.equal((await get(`${anyCert.url}/healthz`, { ca })).status, 200, 'RequireAnyClientCert: /healthz open without a certificate');
    t.equal((await get(`${anyCert.url}/metrics`, { ca })).status, 403, 'RequireAnyClientCert: /metrics still needs one');

    // Client authentication changed by SIGHUP (reload) applies to the TLS handshake and the HTTP checks alike.
    const clientCert = { cert: await readFile(join(certs, 'client.crt'), 'utf8'), key: await readFile(join(certs, 'client.key'), 'utf8') };
    const reloadWeb = join(certs, 'web-reload.yml');
    await writeFile(reloadWeb, YAML.stringify({ tls_server_config: { cert_file: 'server.crt', key_file: 'server.key' } }));
    const reloading = await start({ webConfigFile: reloadWeb, listen: `${BLOCK}.6:0` });
    t.equal((await get(`${reloading.url}/metrics`, { ca })).status, 200, 'before: no client certificate needed');
    await writeFile(reloadWeb, YAML.stringify({ tls_server_config: { cert_file: 'server.crt', key_file: 'server.key', client_auth_type: 'RequireAndVerifyClientCert', client_ca_file: 'ca.crt' } }));
    t.equal(await reloading.reload(), true);
    await t.rejects(get(`${reloading.url}/metrics`, { ca }), 'after reload: refused without a client certificate');
    t.equal((await get(`${reloading.url}/metrics`, { ca, ...clientCert })).status, 200, 'after reload: accepted with one');
    await writeFile(reloadWeb, YAML.stringify({ tls_server_config: { cert_file: 'server.crt', key_file: 'server.key' } }));
    t.equal(await reloading.reload(), true);
    t.equal((await get(`${reloading.url}/metrics`, { ca })).status, 200, 'reloaded back: no client certificate needed again');

    await writeFile(web, 'tls_server_config: {cert_file: server.crt}\n');
    await t.rejects(start({ webConfigFile: web }), /tls_server_config\.key_file/, 'an invalid web config is refused with its key path');
  });
});

t.test('the real executable (the bundle, as the image runs it): SIGHUP reloads, SIGTERM exits 0', { skip: existsSync(join(ROOT, 'dist/miprobe.cjs')) ? false : 'run npm run build first' }, async (t) => {
  const dns = await startDnsServer({ host: `${BLOCK}.54`, port: 0, records: buildMiZone({ miName: 'mi1', zoneId: '0a1b2c3d4e5f', region: 'westeurope', ilbAddress: `${BLOCK}.4` }) });
  t.teardown(() => dns.close());
  const dir = await mkdtemp(join(tmpdir(), 'miprobe-bin-'));
  const configPath = join(dir, 'agent.yaml');
  await writeFile(configPath, YAML.stringify({ dns: { servers: [`${BLOCK}.54:${dns.endpoint.port}`], requiredNames: [] }, instances: [{ fqdn: FQDN }], agent: { listen: `${BLOCK}.3:0` } }));
  const child = spawn(process.execPath, [join(ROOT, 'dist/cli/launch.cjs'), 'agent', '--config', configPath], { env: { ...process.env, MIPROBE_ALLOW_CIDRS: '127.0.0.0/8' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const waitLog = async (msg: string): Promise<Record<string, unknown>> => {
    for (let i = 0; i < 200; i++) {
      const hit = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === msg);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no "${msg}" in ${out}`);
  };
  const started = await waitLog('agent started');
  t.equal((await get(`${String(started.url)}/healthz`)).status, 200);
  child.kill('SIGHUP');
  t.equal((await waitLog('configuration reloaded')).instances, 1);
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exit 0 after SIGTERM');
  t.ok(out.includes('"msg":"agent stopped"'));
});
