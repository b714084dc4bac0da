// queryServer against the simulated server over real loopback sockets (127.53.1.0/24).
import t from 'tap';
import { createServer, type Socket } from 'node:net';
import { queryServer } from '../../src/net/dns/client.js';
import { startDnsServer, type SimRecord } from '../../src/sim/dns-server.js';
import { AddressGuard } from '../../src/net/guard.js';
import { dnsTestGuard, freePort } from '../helpers/dns.js';

const guard = dnsTestGuard();
const records: SimRecord[] = [
  { name: 'a.test', type: 'A', data: '10.0.0.1', ttl: 30 },
  { name: 'a.test', type: 'AAAA', data: 'fd00::1' },
  { name: 'alias.test', type: 'CNAME', data: 'a.test' },
];
const big: SimRecord[] = Array.from({ length: 120 }, (_, i) => ({ name: 'big.test', type: 'A' as const, data: `10.1.${i >> 8}.${i & 255}` }));

t.test('answers A from the record set over UDP, matching case-insensitively', async (t) => {
  const srv = await startDnsServer({ host: '127.53.1.1', records });
  t.teardown(() => srv.close());
  t.ok(srv.endpoint.port > 0, 'reports the bound port');
  const r = await queryServer('A.Test.', 'A', srv.endpoint, { guard, timeoutMs: 2000 });
  t.equal(r.ok, true);
  t.equal(r.transport, 'udp');
  t.equal(r.rcode, 0);
  t.equal(r.queries, 1);
  t.same(r.answers, [{ name: 'a.test', type: 'A', data: '10.0.0.1', ttl: 30 }]);
  t.equal(r.authoritative, true);
  const six = await queryServer('a.test', 'AAAA', srv.endpoint, { guard, timeoutMs: 2000 });
  t.same(six.answers.map((a) => a.data), ['fd00::1']);
  const cname = await queryServer('alias.test', 'CNAME', srv.endpoint, { guard, timeoutMs: 2000 });
  t.same(cname.answers, [{ name: 'alias.test', type: 'CNAME', data: 'a.test', ttl: 60 }]);
  t.equal(srv.queryCount(), 3);
});

for (const [behaviour, code, rcode] of [['nxdomain', 'DNS_NXDOMAIN', 3], ['servfail', 'DNS_SERVFAIL', 2],
  ['refused', 'DNS_REFUSED', 5], ['notimp', 'DNS_NOTIMP', 4], ['formerr', 'DNS_FORMERR', 1]] as const) {
  t.test(`${behaviour} maps to ${code}`, async (t) => {
    const srv = await startDnsServer({ host: '127.53.1.2', records, behaviour });
    t.teardown(() => srv.close());
    const r = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 2000 });
    t.equal(r.ok, false);
    t.equal(r.error?.code, code);
    t.equal(r.rcode, rcode);
    t.match(r.error?.message ?? '', /127\.53\.1\.2:\d+ answered/);
  });
}

t.test('a name absent from the data is NXDOMAIN', async (t) => {
  const srv = await startDnsServer({ host: '127.53.1.3', records });
  t.teardown(() => srv.close());
  const r = await queryServer('nope.test', 'A', srv.endpoint, { guard, timeoutMs: 2000 });
  t.equal(r.error?.code, 'DNS_NXDOMAIN');
});

t.test('silent server: DNS_TIMEOUT within the deadline, after the retransmissions', async (t) => {
  const srv = await startDnsServer({ host: '127.53.1.4', records, behaviour: 'silent' });
  t.teardown(() => srv.close());
  const started = Date.now();
  const r = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 600, retries: 2 });
  const took = Date.now() - started;
  t.equal(r.error?.code, 'DNS_TIMEOUT');
  t.equal(r.queries, 3, 'first transmission plus 2 retries');
  t.ok(took >= 550 && took < 1500, `took ${took} ms`);
  t.equal(srv.queryCount(), 3, 'the server saw all three transmissions');
});

t.test('a dropped first transmission is recovered by the retransmission', async (t) => {
  const srv = await startDnsServer({ host: '127.53.1.5', records, behaviour: 'drop-first' });
  t.teardown(() => srv.close());
  const r = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 1000, retries: 1, attemptTimeoutMs: 150 });
  t.equal(r.ok, true);
  t.equal(r.queries, 2);
  t.same(r.answers.map((a) => a.data), ['10.0.0.1']);
});

t.test('a late answer to an earlier transmission is still accepted (same id)', async (t) => {
  const srv = await startDnsServer({ host: '127.53.1.19', records, delayMs: 250 });
  t.teardown(() => srv.close());
  const r = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 2000, retries: 5, attemptTimeoutMs: 100 });
  t.equal(r.ok, true);
  t.ok(r.queries >= 2 && r.queries <= 5, `retransmitted every 100 ms until the 250 ms answer came (${r.queries} sent)`);
  t.same(r.answers.map((a) => a.data), ['10.0.0.1']);
});

t.test('a server that is not an IP literal is refused without any lookup', async (t) => {
  const r = await queryServer('a.test', 'A', { host: 'localhost', port: 53 }, { guard: AddressGuard.allowAll(), timeoutMs: 500 });
  t.equal(r.error?.code, 'DNS_NETWORK');
  t.equal(r.queries, 0);
  const p = await queryServer('a.test', 'A', { host: '127.53.1.20', port: 0 }, { guard, timeoutMs: 500 });
  t.equal(p.error?.code, 'DNS_NETWORK');
});

t.test('truncated UDP answer is retried over TCP', async (t) => {
  const srv = await startDnsServer({ host: '127.53.1.6', records, behaviour: 'truncate-udp' });
  t.teardown(() => srv.close());
  const r = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 2000 });
  t.equal(r.ok, true);
  t.equal(r.transport, 'tcp');
  t.equal(r.truncated, true);
  t.equal(r.queries, 2);
  t.same(r.answers.map((a) => a.data), ['10.0.0.1']);
  t.same(srv.queries().map((q) => q.transport), ['udp', 'tcp']);
});

t.test('an answer too large for 1232 bytes is truncated naturally and fetched over TCP', async (t) => {
  const srv = await startDnsServer({ host: '127.53.1.7', records: big });
  t.teardown(() => srv.close());
  const r = await queryServer('big.test', 'A', srv.endpoint, { guard, timeoutMs: 2000 });
  t.equal(r.ok, true);
  t.equal(r.transport, 'tcp');
  t.equal(r.answers.length, 120);
});

t.test('TC set but nothing listens on TCP: DNS_NETWORK', async (t) => {
  const srv = await startDnsServer({ host: '127.53.1.8', records, behaviour: 'truncate-udp', tcp: false });
  t.teardown(() => srv.close());
  const r = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 2000 });
  t.equal(r.error?.code, 'DNS_NETWORK');
  t.match(r.error?.message ?? '', /nothing listens on tcp 127\.53\.1\.8/);
});

t.test('TCP closed without an answer: DNS_NETWORK', async (t) => {
  const srv = await startDnsServer({ host: '127.53.1.9', records, behaviour: 'tcp-close' });
  t.teardown(() => srv.close());
  const r = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 2000 });
  t.equal(r.error?.code, 'DNS_NETWORK');
  t.match(r.error?.message ?? '', /closed the connection without answering/);
});

t.test('malformed answers are DNS_MALFORMED over UDP and TCP', async (t) => {
  const srv = await startDnsServer({ host: '127.53.1.10', records, behaviour: 'malformed' });
  t.teardown(() => srv.close());
  const started = Date.now();
  const udp = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 2000 });
  t.equal(udp.error?.code, 'DNS_MALFORMED');
  t.ok(Date.now() - started < 1500, 'immediately, not at the deadline');
  const tcp = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 2000, tcpOnly: true });
  t.equal(tcp.error?.code, 'DNS_MALFORMED');
  t.equal(tcp.transport, 'tcp');
});

t.test('a wrong id is ignored (then timeout); wrong id then right is accepted', async (t) => {
  const srv = await startDnsServer({ host: '127.53.1.11', records, behaviour: 'wrong-id' });
  t.teardown(() => srv.close());
  const r = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 400, retries: 0 });
  t.equal(r.error?.code, 'DNS_TIMEOUT');
  srv.setBehaviour('wrong-id-then-right');
  const ok = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 1000, retries: 0 });
  t.equal(ok.ok, true);
  t.same(ok.answers.map((a) => a.data), ['10.0.0.1'], 'the bogus 192.0.2.66 was not taken');
  srv.setBehaviour('wrong-id');
  const tcp = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 1000, tcpOnly: true });
  t.equal(tcp.error?.code, 'DNS_MALFORMED', 'over TCP a wrong id is an error');
});

t.test('an answer to another question is ignored', async (t) => {
  const srv = await startDnsServer({ host: '127.53.1.12', records, behaviour: 'wrong-question-then-right' });
  t.teardown(() => srv.close());
  const r = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 1000, retries: 0 });
  t.equal(r.ok, true);
  t.same(r.answers.map((a) => a.data), ['10.0.0.1']);
});

t.test('answers from another source port are ignored', async (t) => {
  const srv = await startDnsServer({ host: '127.53.1.13', records, behaviour: 'wrong-source' });
  t.teardown(() => srv.close());
  const r = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 400, retries: 0 });
  t.equal(r.error?.code, 'DNS_TIMEOUT', 'the right answer from the wrong port is not accepted');
  srv.setBehaviour('wrong-source-then-right');
  const ok = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 1000, retries: 0 });
  t.equal(ok.ok, true);
  t.same(ok.answers.map((a) => a.data), ['10.0.0.1']);
});

t.test('guard denial sends no packet', async (t) => {
  const srv = await startDnsServer({ host: '127.53.1.14', records });
  t.teardown(() => srv.close());
  const narrow = AddressGuard.fromList('127.53.200.0/24');
  const r = await queryServer('a.test', 'A', srv.endpoint, { guard: narrow, timeoutMs: 500 });
  t.equal(r.error?.code, 'GUARD_DENIED');
  t.equal(r.queries, 0);
  await new Promise((res) => setTimeout(res, 50));
  t.equal(srv.queryCount(), 0);
});

t.test('UDP port unreachable is DNS_NETWORK naming the address', async (t) => {
  const port = await freePort('127.53.1.15');
  const started = Date.now();
  const r = await queryServer('a.test', 'A', { host: '127.53.1.15', port }, { guard, timeoutMs: 2000 });
  t.equal(r.error?.code, 'DNS_NETWORK');
  t.match(r.error?.message ?? '', new RegExp(`nothing listens on udp 127\\.53\\.1\\.15:${port}`));
  t.ok(Date.now() - started < 1000, 'without waiting for the deadline');
});

t.test('the caller signal aborts a query', async (t) => {
  const srv = await startDnsServer({ host: '127.53.1.16', records, behaviour: 'silent' });
  t.teardown(() => srv.close());
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const started = Date.now();
  const r = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 5000, signal: ac.signal });
  t.equal(r.error?.code, 'DNS_ABORTED');
  t.ok(Date.now() - started < 1000);
  const pre = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 5000, signal: AbortSignal.abort() });
  t.equal(pre.error?.code, 'DNS_ABORTED');
});

t.test('TCP reads are bounded and a slow TCP server times out', async (t) => {
  // A TCP peer that announces a 65535-byte message, sends a few bytes and then stalls.
  const host = '127.53.1.17';
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('data', () => s.write(Buffer.from([0xff, 0xff, 1, 2, 3])));
  });
  await new Promise<void>((res) => server.listen(0, host, () => res()));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const r = await queryServer('a.test', 'A', { host, port }, { guard, timeoutMs: 400, tcpOnly: true });
  t.equal(r.error?.code, 'DNS_TIMEOUT');
});
