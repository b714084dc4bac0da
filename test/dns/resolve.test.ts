// resolve(): CNAME chains, failover, deadlines, names, against simulated servers
// on real loopback sockets (127.53.2.0/24).
import t from 'tap';
import { resolve, validateHostName } from '../../src/net/dns/resolve.js';
import { startDnsServer, type SimRecord } from '../../src/sim/dns-server.js';
import { buildMiZone } from '../../src/sim/mi-zone.js';
import { AddressGuard } from '../../src/net/guard.js';
import { dnsTestGuard, freePort } from '../helpers/dns.js';

const guard = dnsTestGuard();
const mi = buildMiZone({ miName: 'mi1', zoneId: '0a1b2c3d4e5f', region: 'westeurope', ilbAddress: '10.0.0.10',
  managementAddress: '203.0.113.7', publicAddress: '203.0.113.8' });
const records: SimRecord[] = [
  ...mi,
  { name: 'v6only.test', type: 'AAAA', data: 'fd00::6' },
  { name: 'dual.test', type: 'A', data: '10.0.0.2' },
  { name: 'dual.test', type: 'AAAA', data: 'fd00::2' },
  { name: 'empty.test', type: 'CNAME', data: 'v6only.test' },
  { name: 'dangling.test', type: 'CNAME', data: 'missing.test' },
  { name: 'loop1.test', type: 'CNAME', data: 'loop2.test' },
  { name: 'loop2.test', type: 'CNAME', data: 'loop3.test' },
  { name: 'loop3.test', type: 'CNAME', data: 'loop1.test' },
  // a chain of 20 hops
  ...Array.from({ length: 20 }, (_, i) => ({ name: `h${i}.test`, type: 'CNAME' as const, data: `h${i + 1}.test` })),
  { name: 'h20.test', type: 'A', data: '10.0.0.20' },
];
const vnetLocal = 'mi1.0a1b2c3d4e5f.database.windows.net';
const target = 'tr1234.westeurope1-a.worker.vnet.database.windows.net';

t.test('MI name: the whole legacy chain, in order, with TTLs', async (t) => {
  const srv = await startDnsServer({ host: '127.53.2.1', records });
  t.teardown(() => srv.close());
  const r = await resolve(vnetLocal, { guard, servers: [srv.endpoint], timeoutMs: 2000 });
  t.equal(r.ok, true);
  t.equal(r.error, undefined);
  t.same(r.chain, [
    { name: vnetLocal, type: 'CNAME', data: target, ttl: 60 },
    { name: target, type: 'A', data: '10.0.0.10', ttl: 60 },
  ]);
  t.same(r.addresses, ['10.0.0.10']);
  t.equal(r.canonicalName, target);
  t.equal(r.transport, 'udp');
  t.equal(r.queries, 2, 'A and AAAA');
  t.equal(r.server, `127.53.2.1:${srv.endpoint.port}`);
  t.same(r.attempts?.map((a) => a.outcome), ['OK']);
  const mgmt = await resolve('tr1234.westeurope1-a.worker.database.windows.net', { guard, servers: [srv.endpoint], timeoutMs: 2000, ipv6: false });
  t.same(mgmt.addresses, ['203.0.113.7'], 'stripping .vnet gives the management address');
  t.equal(mgmt.queries, 1, 'ipv6: false asks A only');
});

t.test('A and AAAA together; AAAA-only names succeed; a CNAME to an AAAA-only name', async (t) => {
  const srv = await startDnsServer({ host: '127.53.2.2', records });
  t.teardown(() => srv.close());
  const dual = await resolve('dual.test', { guard, servers: [srv.endpoint], timeoutMs: 2000 });
  t.same(dual.addresses, ['10.0.0.2', 'fd00::2']);
  t.same(dual.chain.map((h) => h.type), ['A', 'AAAA']);
  const v6 = await resolve('v6only.test', { guard, servers: [srv.endpoint], timeoutMs: 2000 });
  t.equal(v6.ok, true);
  t.same(v6.addresses, ['fd00::6']);
  const v4only = await resolve('v6only.test', { guard, servers: [srv.endpoint], timeoutMs: 2000, ipv6: false });
  t.equal(v4only.error?.code, 'DNS_NODATA');
  const viaCname = await resolve('empty.test', { guard, servers: [srv.endpoint], timeoutMs: 2000, ipv6: false });
  t.equal(viaCname.error?.code, 'DNS_NODATA');
  t.same(viaCname.chain.map((h) => h.data), ['v6only.test'], 'the chain seen so far is kept');
});

t.test('AAAA failures do not fail an A success, nor hold it long', async (t) => {
  const srv = await startDnsServer({ host: '127.53.2.3', records,
    behaviours: { 'dual.test/AAAA': 'silent', 'v6only.test/A': 'servfail' } });
  t.teardown(() => srv.close());
  const started = Date.now();
  const r = await resolve('dual.test', { guard, servers: [srv.endpoint], timeoutMs: 3000 });
  t.equal(r.ok, true);
  t.same(r.addresses, ['10.0.0.2']);
  t.ok(Date.now() - started < 1500, `AAAA is dropped after a short grace (${Date.now() - started} ms), not after 3 s`);
  const v6 = await resolve('v6only.test', { guard, servers: [srv.endpoint], timeoutMs: 1000 });
  t.equal(v6.error?.code, 'DNS_SERVFAIL', 'the A side decides: an A failure is a failure even with AAAA');
});

t.test('NXDOMAIN is final and keeps a dangling chain', async (t) => {
  const srv = await startDnsServer({ host: '127.53.2.4', records });
  const other = await startDnsServer({ host: '127.53.2.5', records });
  t.teardown(() => Promise.all([srv.close(), other.close()]));
  const r = await resolve('nope.test', { guard, servers: [srv.endpoint, other.endpoint], timeoutMs: 2000 });
  t.equal(r.error?.code, 'DNS_NXDOMAIN');
  t.equal(other.queryCount(), 0, 'NXDOMAIN does not fail over');
  const d = await resolve('dangling.test', { guard, servers: [srv.endpoint], timeoutMs: 2000 });
  t.equal(d.error?.code, 'DNS_NXDOMAIN');
  t.same(d.chain, [{ name: 'dangling.test', type: 'CNAME', data: 'missing.test', ttl: 60 }]);
  t.equal(d.canonicalName, 'missing.test');
});

t.test('partial chains are followed by the client', async (t) => {
  const srv = await startDnsServer({ host: '127.53.2.6', records, partialChain: true });
  t.teardown(() => srv.close());
  const r = await resolve(vnetLocal, { guard, servers: [srv.endpoint], timeoutMs: 2000, ipv6: false });
  t.equal(r.ok, true);
  t.same(r.chain.map((h) => `${h.name} ${h.type} ${h.data}`), [`${vnetLocal} CNAME ${target}`, `${target} A 10.0.0.10`]);
  t.equal(r.queries, 2, 'the name, then the CNAME target');
  t.same(srv.queries().map((q) => q.name.toLowerCase()), [vnetLocal, target]);
  const long = await resolve('h0.test', { guard, servers: [srv.endpoint], timeoutMs: 3000, ipv6: false, maxHops: 25 });
  t.equal(long.ok, true);
  t.equal(long.chain.length, 21);
  t.equal(long.queries, 21);
});

t.test('CNAME loops are detected, whole-chain and partial', async (t) => {
  const full = await startDnsServer({ host: '127.53.2.7', records });
  const partial = await startDnsServer({ host: '127.53.2.8', records, partialChain: true });
  t.teardown(() => Promise.all([full.close(), partial.close()]));
  for (const srv of [full, partial]) {
    const r = await resolve('loop1.test', { guard, servers: [srv.endpoint], timeoutMs: 2000 });
    t.equal(r.error?.code, 'DNS_CNAME_LOOP');
    t.match(r.error?.message ?? '', /comes back to loop1\.test/);
    t.same(r.chain.map((h) => h.name), ['loop1.test', 'loop2.test', 'loop3.test']);
  }
  t.equal(partial.queryCount(), 6, 'three hops each for A and AAAA, then it stops');
});

t.test('hop limit', async (t) => {
  const srv = await startDnsServer({ host: '127.53.2.9', records });
  t.teardown(() => srv.close());
  const r = await resolve('h0.test', { guard, servers: [srv.endpoint], timeoutMs: 2000 });
  t.equal(r.error?.code, 'DNS_CNAME_TOO_LONG', 'default 16 < 20 hops');
  t.equal(r.chain.length, 16);
  const ok = await resolve('h0.test', { guard, servers: [srv.endpoint], timeoutMs: 2000, maxHops: 20 });
  t.equal(ok.ok, true);
  t.same(ok.addresses, ['10.0.0.20']);
});

t.test('failover: timeout, SERVFAIL, REFUSED and network errors move to the next server', async (t) => {
  const silent = await startDnsServer({ host: '127.53.2.10', records, behaviour: 'silent' });
  const servfail = await startDnsServer({ host: '127.53.2.11', records, behaviour: 'servfail' });
  const refused = await startDnsServer({ host: '127.53.2.12', records, behaviour: 'refused' });
  const good = await startDnsServer({ host: '127.53.2.13', records });
  t.teardown(() => Promise.all([silent.close(), servfail.close(), refused.close(), good.close()]));
  const deadPort = await freePort('127.53.2.14');
  const started = Date.now();
  const r = await resolve(vnetLocal, { guard, timeoutMs: 3000, servers: [silent.endpoint, servfail.endpoint,
    refused.endpoint, { host: '127.53.2.14', port: deadPort }, good.endpoint] });
  const took = Date.now() - started;
  t.equal(r.ok, true);
  t.same(r.addresses, ['10.0.0.10']);
  t.equal(r.server, `127.53.2.13:${good.endpoint.port}`);
  t.same(r.attempts?.map((a) => a.outcome), ['DNS_TIMEOUT', 'DNS_SERVFAIL', 'DNS_REFUSED', 'DNS_NETWORK', 'OK']);
  t.ok(took < 3000, `within the deadline (${took} ms)`);
  t.ok(took >= 500, 'the silent server had its share of the time');
});

t.test('all servers failing: the last error, with every server listed; deadline kept', async (t) => {
  const a = await startDnsServer({ host: '127.53.2.15', records, behaviour: 'silent' });
  const b = await startDnsServer({ host: '127.53.2.16', records, behaviour: 'silent' });
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const started = Date.now();
  const r = await resolve(vnetLocal, { guard, timeoutMs: 800, servers: [a.endpoint, b.endpoint] });
  const took = Date.now() - started;
  t.equal(r.error?.code, 'DNS_TIMEOUT');
  t.ok(took >= 700 && took < 2000, `took ${took} ms`);
  t.ok(r.seconds > 0.6 && r.seconds < 2);
  t.ok(a.queryCount() >= 2 && b.queryCount() >= 2, 'both servers asked (A and AAAA each)');
  t.match(r.error?.message ?? '', /servers tried: 127\.53\.2\.15:\d+ DNS_TIMEOUT, 127\.53\.2\.16:\d+ DNS_TIMEOUT/);
});

t.test('truncation -> TCP is reported as transport tcp', async (t) => {
  const srv = await startDnsServer({ host: '127.53.2.17', records, behaviour: 'truncate-udp' });
  t.teardown(() => srv.close());
  const r = await resolve(vnetLocal, { guard, servers: [srv.endpoint], timeoutMs: 2000 });
  t.equal(r.ok, true);
  t.equal(r.transport, 'tcp');
  t.same(r.addresses, ['10.0.0.10']);
  t.equal(r.queries, 4, 'UDP then TCP, for A and AAAA');
});

t.test('malformed answers fail over', async (t) => {
  const bad = await startDnsServer({ host: '127.53.2.18', records, behaviour: 'malformed' });
  const good = await startDnsServer({ host: '127.53.2.19', records });
  t.teardown(() => Promise.all([bad.close(), good.close()]));
  const r = await resolve(vnetLocal, { guard, servers: [bad.endpoint], timeoutMs: 2000 });
  t.equal(r.error?.code, 'DNS_MALFORMED');
  const r2 = await resolve(vnetLocal, { guard, servers: [bad.endpoint, good.endpoint], timeoutMs: 2000 });
  t.equal(r2.ok, true);
});

t.test('guard: denied servers get no packet; the next allowed one is used', async (t) => {
  const denied = await startDnsServer({ host: '127.53.2.20', records });
  const allowed = await startDnsServer({ host: '127.53.2.21', records });
  t.teardown(() => Promise.all([denied.close(), allowed.close()]));
  const narrow = AddressGuard.fromList('127.53.2.21/32');
  const only = await resolve(vnetLocal, { guard: narrow, servers: [denied.endpoint], timeoutMs: 1000 });
  t.equal(only.ok, false);
  t.equal(only.error?.code, 'GUARD_DENIED');
  t.equal(only.queries, 0);
  const r = await resolve(vnetLocal, { guard: narrow, servers: [denied.endpoint, allowed.endpoint], timeoutMs: 1000 });
  t.equal(r.ok, true);
  t.same(r.attempts?.map((a) => a.outcome), ['GUARD_DENIED', 'OK']);
  await new Promise((res) => setTimeout(res, 50));
  t.equal(denied.queryCount(), 0, 'not one packet to the denied server');
});

t.test('bad names are refused before any packet', async (t) => {
  const srv = await startDnsServer({ host: '127.53.2.22', records });
  t.teardown(() => srv.close());
  const bad = ['', '.', 'a..b', '-a.test', 'a-.test', 'under_score.test', 'sp ace.test', `${'a'.repeat(64)}.test`,
    `${'abcdefghi.'.repeat(26)}com`, '10.0.0.1', 'ex*ample.com', 'é.test'];
  for (const name of bad) {
    const r = await resolve(name, { guard, servers: [srv.endpoint], timeoutMs: 500 });
    t.equal(r.error?.code, 'DNS_BAD_NAME', `"${name.slice(0, 30)}" is refused`);
    t.equal(r.queries, 0);
  }
  t.equal(srv.queryCount(), 0);
  for (const name of ['a.test', 'A-1.Test.', `${'a'.repeat(63)}.test`, 'localhost', '0a1b2c3d4e5f.database.windows.net']) {
    t.equal(validateHostName(name), undefined, `"${name.slice(0, 30)}" is valid`);
  }
  t.equal(validateHostName(`${'abcdefgh.'.repeat(27)}abcdefghij`), undefined, '253 characters is allowed');
  t.match(validateHostName(`${'abcdefgh.'.repeat(27)}abcdefghijk`), /254 characters/);
});

t.test('no servers, aborted signal', async (t) => {
  const none = await resolve('a.test', { guard, servers: [], timeoutMs: 500 });
  t.equal(none.error?.code, 'DNS_NO_SERVERS');
  const srv = await startDnsServer({ host: '127.53.2.23', records, behaviour: 'silent' });
  t.teardown(() => srv.close());
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const started = Date.now();
  const r = await resolve(vnetLocal, { guard, servers: [srv.endpoint], timeoutMs: 5000, signal: ac.signal });
  t.equal(r.error?.code, 'DNS_ABORTED');
  t.ok(Date.now() - started < 1000);
  const pre = await resolve(vnetLocal, { guard, servers: [srv.endpoint], timeoutMs: 5000, signal: AbortSignal.abort() });
  t.equal(pre.error?.code, 'DNS_ABORTED');
  t.equal(pre.queries, 0);
});

t.test('per-name behaviours: one name fails, others answer', async (t) => {
  const srv = await startDnsServer({ host: '127.53.2.24', records, behaviours: { [target]: 'servfail' } });
  t.teardown(() => srv.close());
  const r = await resolve(vnetLocal, { guard, servers: [srv.endpoint], timeoutMs: 2000, ipv6: false });
  t.equal(r.ok, true, 'the full chain is returned by the server for the first name');
  const direct = await resolve(target, { guard, servers: [srv.endpoint], timeoutMs: 2000, ipv6: false });
  t.equal(direct.error?.code, 'DNS_SERVFAIL');
});

t.test('never throws, even on odd input', async (t) => {
  const r = await resolve(undefined as unknown as string, { guard, servers: [], timeoutMs: 100 });
  t.equal(r.ok, false);
  t.equal(r.error?.code, 'DNS_BAD_NAME');
});
