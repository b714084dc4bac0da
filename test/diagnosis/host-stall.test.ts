// When miprobe itself cannot run for a good part of a deadline (its own CPU work, or a
// host whose cores are all taken), the timeouts it sees meanwhile are the host's: the
// report leads with HOST-001 and marks them as its consequences instead of blaming the
// network. Against a simulated network in its own process (demo --serve).
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import t from 'tap';
import { runDiagnosis } from '../../src/cli/diagnose.js';
import { loadConfig, mergeLayers } from '../../src/config/load.js';
import { applyHostStall, isTimeoutFinding, stallMargin } from '../../src/diagnosis/host-rules.js';
import { finding } from '../../src/diagnosis/finding.js';
import { DATAPATH } from '../../src/diagnosis/catalog/datapath.js';
import { DNS } from '../../src/diagnosis/catalog/dns.js';
import { MGMT } from '../../src/diagnosis/catalog/management.js';
import { REVOCATION } from '../../src/diagnosis/catalog/revocation.js';
import { simConfigLayer, simSecretsEnv } from '../../src/sim/network-info.js';
import { serveScenario } from '../helpers/served.js';

t.test('applyHostStall: below the margin nothing changes; above it timeouts become HOST-001\'s consequences', async (t) => {
  const timeout = finding(DNS.unreachable, 'DNS 10.0.0.2:53: DNS_TIMEOUT');
  const other = finding(Object.values(MGMT)[0] ?? DNS.nxdomain, 'port 9000 open');
  t.equal(stallMargin(1000), 250);
  t.equal(stallMargin(5000), 1250);
  t.same(applyHostStall([timeout, other], { maxStallMs: 200, totalStallMs: 20 }, 1000), [timeout, other]);
  const out = applyHostStall([timeout, other], { maxStallMs: 900, totalStallMs: 900 }, 1000);
  t.equal(out[0]?.id, 'HOST-001');
  t.match(out[0]?.evidence, /up to 900 ms at a time \(900 ms in all\) against deadlines of 1000 ms/);
  t.match(out[1], { id: 'DNS-002', severity: 'warning', causedBy: 'HOST-001' });
  t.same(out[2], other, 'findings that are not timeouts are left alone');
});

t.test('timeouts are picked by their error code, wherever they come from; other findings are left alone', async (t) => {
  const timeouts = [
    finding(REVOCATION.noAnswer, 'http://crl.example:80/x.crl (CRL): HTTP_HEADERS_TIMEOUT: 127.0.0.9:80 accepted the connection and got the request, but sent no HTTP response headers within 986 ms'),
    finding(REVOCATION.unreachable, 'http://ocsp.example/ (OCSP): TCP 80 failed: TCP_TIMEOUT: no answer to the TCP handshake within 1000 ms'),
    finding(REVOCATION.unreachable, 'CRL http://a/b.crl for leaf "CN=x": HTTP_TIMEOUT: HTTP 200 headers came, but the body (12 bytes so far) did not finish within 1000 ms'),
    finding(REVOCATION.unreachable, 'http://crl.example/ (CRL): DNS failed: DNS_FAILED: crl.example did not resolve (DNS_TIMEOUT: no answer)'),
    finding(REVOCATION.slow, 'CRL http://a/b.crl took 1.40 s for leaf "CN=x"'),
    finding(DATAPATH.redirectUnresolved, 'node.example: DNS_TIMEOUT: no answer from 10.0.0.2:53'),
    finding(DATAPATH.redirectBlocked, 'TCP to the node node.example:11000 (10.0.0.5): TCP_TIMEOUT, no answer to the TCP handshake within 1000 ms'),
    finding(DNS.customDnsCoverage, '10.0.0.2:53 failed 2 of 16: a.example (DNS_TIMEOUT), b.example (DNS_TIMEOUT)'),
    finding(DATAPATH.loginTimeout, 'dummy login to x (10.0.0.4:1433) during login7: LOGIN_TIMEOUT: no login within 1000 ms'),
    finding(DATAPATH.tcpFiltered, 'TCP to 10.0.0.4:1433: TCP_TIMEOUT, no answer to the TCP handshake within 1000 ms after 1 s'),
  ];
  const others = [
    finding(REVOCATION.unreachable, 'http://crl.example/ (CRL): TCP 80 failed: TCP_REFUSED: ECONNREFUSED'),
    finding(DATAPATH.preloginGarbage, 'PRELOGIN to x (10.0.0.4:1433): TDS_MALFORMED: not TDS (12 bytes received, 0.01 s)'),
    { ...finding(REVOCATION.unreachable, 'not reached, because name resolution failed: the resolver did not answer (DNS-002); not tried: x (DNS_TIMEOUT)'), causedBy: 'DNS-002' },
    finding({ ...MGMT.unreachable }, 'the management endpoint 10.0.0.9: TCP_TIMEOUT on 9000'),
  ];
  for (const f of timeouts) t.ok(isTimeoutFinding(f), `${f.id} is a timeout: ${f.evidence}`);
  t.notOk(isTimeoutFinding(others[0]!), 'a refused connect is no timeout');
  t.notOk(isTimeoutFinding(others[1]!), 'a malformed answer is no timeout');
  const out = applyHostStall([...timeouts, ...others], { maxStallMs: 1600, totalStallMs: 1700 }, 1000);
  t.equal(out[0]?.id, 'HOST-001');
  for (const f of out.slice(1, timeouts.length + 1)) t.match(f, { causedBy: 'HOST-001', severity: 'warning' }, `${f.id} follows from HOST-001`);
  t.same(out.slice(1 + timeouts.length, 3 + timeouts.length), others.slice(0, 2), 'not timeouts: unchanged');
  t.equal(out[3 + timeouts.length]?.causedBy, 'DNS-002', 'a timeout already explained by the silent resolver keeps that cause');
  t.match(out[4 + timeouts.length], { causedBy: 'HOST-001', severity: 'info' }, 'an informational timeout stays information');
});

/** A UDP DNS forwarder on 127.118.0.1 whose first query blocks this process for `stallMs`. */
async function stallingResolver(upstream: string, stallMs: number): Promise<{ endpoint: string; close(): void }> {
  const at = upstream.lastIndexOf(':');
  const socket = createSocket('udp4');
  const clients = new Map<number, { address: string; port: number }>();
  let stalled = false;
  socket.on('message', (msg, from) => {
    if (from.address === upstream.slice(0, at) && from.port === Number(upstream.slice(at + 1))) {
      const client = clients.get(msg.readUInt16BE(0));
      if (client) socket.send(msg, client.port, client.address);
      return;
    }
    if (!stalled) {
      stalled = true;
      const until = Date.now() + stallMs;
      while (Date.now() < until) { /* the host "stalls" miprobe */ }
    }
    clients.set(msg.readUInt16BE(0), { address: from.address, port: from.port });
    socket.send(msg, Number(upstream.slice(at + 1)), upstream.slice(0, at));
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.118.0.1', () => resolve()));
  return { endpoint: `127.118.0.1:${socket.address().port}`, close: () => socket.close() };
}

async function diagnoseServed(info: Parameters<typeof simConfigLayer>[0], timeoutMs: number, signal?: AbortSignal) {
  const config = await loadConfig({ env: {}, flags: mergeLayers({ timeoutMs }, simConfigLayer(info), { probe: { login: 'none', revocation: false } }) });
  return runDiagnosis(info.fqdn, config, simSecretsEnv(info), signal);
}

t.test('a process stalled past the deadline: HOST-001 leads, no timeout is a network critical', { timeout: 120_000 }, async (t) => {
  const { info } = await serveScenario(t, 'healthy');
  const control = await diagnoseServed(info, 5000);
  t.equal(control.verdict, 'healthy', 'unstalled, the same network is healthy');
  t.notOk(control.findings.some((f) => f.id === 'HOST-001'), 'and no HOST-001');

  // A resolver in front of the simulated one, in this process: the first query it gets stalls this process for 1.6 s
  // (deadline 1 s), as a host whose CPUs are all taken would, then it is forwarded.
  const stalling = await stallingResolver(info.resolvers[0] ?? '', 1600);
  t.teardown(() => stalling.close());
  const report = await diagnoseServed({ ...info, resolvers: [stalling.endpoint] }, 1000);
  t.ok((report.host?.maxStallSeconds ?? 0) >= 1.5, `the stall was measured (${report.host?.maxStallSeconds} s)`);
  t.equal(report.findings[0]?.id, 'HOST-001', `the report leads with the host, not the network: ${report.findings.map((f) => `${f.id} ${f.severity}`).join(', ')}`);
  const timeouts = report.findings.filter((f) => ['DNS-002', 'TCP-002', 'TDS-001', 'TLS-006', 'LOGIN-006'].includes(f.id));
  t.ok(timeouts.every((f) => f.severity === 'warning' && f.causedBy === 'HOST-001'), `timeouts marked as consequences: ${timeouts.map((f) => f.id).join(', ') || 'none'}`);
});

/** A CRL host on 127.118.0.2 that, given a request, stalls this process for `stallMs`, then answers 404. */
async function stallingCrlHost(stallMs: number): Promise<{ url: string; requests(): number; close(): void }> {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    const until = Date.now() + stallMs;
    while (Date.now() < until) { /* the host "stalls" miprobe while its fetches wait for answers */ }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.118.0.2', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.118.0.2:${port}/pki/crl/stall.crl`, requests: () => requests, close: () => { server.closeAllConnections(); server.close(); } };
}

t.test('a process stalled while revocation endpoints answer: their timeouts are HOST-001\'s, not the network\'s', { timeout: 120_000 }, async (t) => {
  const { info } = await serveScenario(t, 'healthy');
  const crl = await stallingCrlHost(1600);
  t.teardown(() => crl.close());
  // The sim's endpoints and ours: while ours holds the process for 1.6 s (deadline 1 s), the others' answers wait unread.
  const urls = [...info.revocationUrls, crl.url];
  const config = await loadConfig({ env: {}, flags: mergeLayers({ timeoutMs: 1000 }, simConfigLayer(info),
    { probe: { login: 'none', managementPorts: false, revocationUrls: urls } }) });
  const report = await runDiagnosis(info.fqdn, config, simSecretsEnv(info));
  t.ok(crl.requests() >= 1, 'the stalling endpoint was asked');
  t.ok((report.host?.maxStallSeconds ?? 0) >= 1.5, `the stall was measured (${report.host?.maxStallSeconds} s)`);
  const summary = report.findings.map((f) => `${f.id} ${f.severity}${f.causedBy ? ` <- ${f.causedBy}` : ''}: ${f.evidence.slice(0, 140)}`).join('\n');
  t.equal(report.findings[0]?.id, 'HOST-001', `the report leads with the host:\n${summary}`);
  const ours = report.findings.filter((f) => f.evidence.includes(crl.url));
  t.ok(ours.some((f) => (f.id === 'REV-017' || f.id === 'REV-002') && /_TIMEOUT/.test(f.evidence)), `the stalled endpoint's timeout is a finding:\n${summary}`);
  t.ok(ours.every((f) => f.causedBy === 'HOST-001' && f.severity === 'warning'), 'and it follows from HOST-001');
  const timeouts = report.findings.filter((f) => f.id.startsWith('REV-') && isTimeoutFinding(f));
  t.ok(timeouts.length >= 1, 'revocation timeouts were seen');
  t.ok(timeouts.every((f) => f.causedBy === 'HOST-001' && f.severity === 'warning'), `every revocation timeout follows from HOST-001:\n${summary}`);
  t.notOk(report.findings.some((f) => f.severity === 'critical'), 'no network critical');
});
