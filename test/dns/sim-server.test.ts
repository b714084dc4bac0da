// The simulated DNS server: robustness against garbage, TCP framing, MI zone
// shapes, close/abort. Loopback 127.53.3.0/24 only.
import t from 'tap';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import { startDnsServer } from '../../src/sim/dns-server.js';
import { buildMiZone, miZoneNames, REQUIRED_DNS_NAMES, requiredDnsRecords } from '../../src/sim/mi-zone.js';
import { resolve } from '../../src/net/dns/resolve.js';
import { queryServer } from '../../src/net/dns/client.js';
import { AddressGuard } from '../../src/net/guard.js';
import { dnsTestGuard } from '../helpers/dns.js';

const guard = dnsTestGuard();
const records = [{ name: 'a.test', type: 'A' as const, data: '10.0.0.1' }];

t.test('garbage over UDP never crashes the server; FORMERR for header-sized junk', async (t) => {
  const srv = await startDnsServer({ host: '127.53.3.1', records });
  t.teardown(() => srv.close());
  const sock = createSocket('udp4');
  await new Promise<void>((res) => sock.bind(0, '127.53.3.1', () => res()));
  t.teardown(() => sock.close());
  const replies: Buffer[] = [];
  sock.on('message', (m) => replies.push(m));
  const send = (b: Buffer): Promise<void> => new Promise((res) => sock.send(b, srv.endpoint.port, '127.53.3.1', () => res()));
  await send(Buffer.alloc(0));
  await send(Buffer.from([1]));
  const junk = Buffer.from([0x12, 0x34, 0x01, 0x00, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c]);
  await send(junk);
  for (let i = 0; i < 200; i += 1) {
    await send(randomBytes(1 + (i % 600)));
    if (i % 10 === 0) await new Promise((res) => setTimeout(res, 2)); // stay under the socket buffer
  }
  // a response (QR=1) must never be answered (no reflection loops)
  await send(dnsPacket.encode({ type: 'response', id: 7, questions: [{ type: 'A', name: 'a.test' }] }));
  // a query with two questions
  await send(dnsPacket.encode({ type: 'query', id: 8, questions: [{ type: 'A', name: 'a.test' }, { type: 'A', name: 'b.test' }] }));
  await new Promise((res) => setTimeout(res, 200));
  const formerr = replies.find((r) => r.readUInt16BE(0) === 0x1234);
  t.ok(formerr, 'junk with a header gets an answer');
  t.equal((formerr?.readUInt16BE(2) ?? 0) & 0xf, 1, 'FORMERR');
  t.notOk(replies.some((r) => r.readUInt16BE(0) === 7), 'responses are not answered');
  const two = replies.find((r) => r.readUInt16BE(0) === 8);
  t.equal((two?.readUInt16BE(2) ?? 0) & 0xf, 1, 'two questions: FORMERR');
  t.equal(srv.queryCount(), 205);
  const r = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 1000 });
  t.equal(r.ok, true, 'still answering');
});

t.test('TCP: pipelined queries in one connection, split frames, garbage frames, oversize', async (t) => {
  const srv = await startDnsServer({ host: '127.53.3.2', records });
  t.teardown(() => srv.close());
  const q = (id: number): Buffer => {
    const m = dnsPacket.encode({ type: 'query', id, questions: [{ type: 'A', name: 'a.test' }] });
    const f = Buffer.alloc(m.length + 2);
    f.writeUInt16BE(m.length, 0);
    m.copy(f, 2);
    return f;
  };
  const sock = connect(srv.endpoint.port, '127.53.3.2');
  t.teardown(() => sock.destroy());
  await new Promise<void>((res) => sock.once('connect', () => res()));
  const chunks: Buffer[] = [];
  sock.on('data', (d: Buffer) => chunks.push(d));
  const both = Buffer.concat([q(1), q(2)]);
  sock.write(both.subarray(0, 5));
  await new Promise((res) => setTimeout(res, 30));
  sock.write(both.subarray(5));
  await new Promise((res) => setTimeout(res, 150));
  const all = Buffer.concat(chunks);
  const ids: number[] = [];
  for (let off = 0; off + 2 <= all.length;) {
    const len = all.readUInt16BE(off);
    ids.push(dnsPacket.decode(all.subarray(off + 2, off + 2 + len)).id ?? -1);
    off += 2 + len;
  }
  t.same(ids, [1, 2]);
  // a frame shorter than a DNS header ends the connection (after the answers already due)
  const closedByServer = new Promise<boolean>((res) => sock.on('end', () => res(true)));
  sock.write(Buffer.concat([q(3), Buffer.from([0, 3, 1, 2, 3])]));
  t.equal(await closedByServer, true);
  // a peer sending 200 kB of maximal frames: consumed frame by frame (memory stays bounded),
  // the server keeps answering others
  const flood = connect(srv.endpoint.port, '127.53.3.2');
  t.teardown(() => flood.destroy());
  flood.on('error', () => undefined);
  const max = Buffer.alloc(65537, 0xff);
  max.writeUInt16BE(65535, 0);
  flood.write(Buffer.concat([max, max, max]));
  await new Promise((res) => setTimeout(res, 100));
  const r = await queryServer('a.test', 'A', srv.endpoint, { guard, timeoutMs: 1000, tcpOnly: true });
  t.equal(r.ok, true);
});

t.test('MI zone: legacy and new shapes, public endpoint', async (t) => {
  const p = { miName: 'MI1', zoneId: '0a1b2c3d4e5f', region: 'westeurope', ilbAddress: '10.0.0.10', managementAddress: '203.0.113.7' };
  const legacy = buildMiZone({ ...p, publicAddress: '203.0.113.8' });
  t.same(legacy.map((r) => `${r.name} ${r.type} ${r.data}`), [
    'mi1.0a1b2c3d4e5f.database.windows.net CNAME tr1234.westeurope1-a.worker.vnet.database.windows.net',
    'tr1234.westeurope1-a.worker.vnet.database.windows.net A 10.0.0.10',
    'tr1234.westeurope1-a.worker.database.windows.net A 203.0.113.7',
    'mi1.public.0a1b2c3d4e5f.database.windows.net CNAME tr1234.westeurope1-a.worker.public.database.windows.net',
    'tr1234.westeurope1-a.worker.public.database.windows.net A 203.0.113.8',
  ]);
  const modern = buildMiZone({ ...p, vnetLabel: false, dnsSuffix: 'database.chinacloudapi.cn',
    extra: [{ name: 'x.test', type: 'A', data: '10.9.9.9' }] });
  t.same(modern.map((r) => `${r.name} ${r.type} ${r.data}`), [
    'mi1.0a1b2c3d4e5f.database.chinacloudapi.cn CNAME tr1234.westeurope1-a.worker.database.chinacloudapi.cn',
    'tr1234.westeurope1-a.worker.database.chinacloudapi.cn A 10.0.0.10',
    'x.test A 10.9.9.9',
  ]);
  t.equal(miZoneNames({ ...p, vnetLabel: false }).management, undefined);
  const srv = await startDnsServer({ host: '127.53.3.3', records: legacy });
  t.teardown(() => srv.close());
  const pub = await resolve('mi1.public.0a1b2c3d4e5f.database.windows.net', { guard, servers: [srv.endpoint], timeoutMs: 1000 });
  t.same(pub.addresses, ['203.0.113.8']);
  t.equal(pub.chain.length, 2);
});

t.test('required names resolve through a custom resolver', async (t) => {
  t.ok(REQUIRED_DNS_NAMES.includes('crl.microsoft.com'));
  t.ok(REQUIRED_DNS_NAMES.includes('microsoftonline-p.com'));
  const recs = requiredDnsRecords();
  t.equal(recs.length, REQUIRED_DNS_NAMES.length);
  t.equal(recs[0]?.data, '192.0.2.1');
  const custom = requiredDnsRecords(['crl.microsoft.com'], () => '127.53.3.99');
  t.same(custom, [{ name: 'crl.microsoft.com', type: 'A', data: '127.53.3.99', ttl: 300 }]);
  const srv = await startDnsServer({ host: '127.53.3.4', records: recs });
  t.teardown(() => srv.close());
  const results = await Promise.all(REQUIRED_DNS_NAMES.map((n) => resolve(n, { guard, servers: [srv.endpoint], timeoutMs: 2000, ipv6: false })));
  t.same(results.map((r) => r.ok), REQUIRED_DNS_NAMES.map(() => true));
  t.same(results.map((r) => r.addresses[0]), recs.map((r) => r.data));
});

t.test('empty non-terminals are NODATA, not NXDOMAIN; setRecords swaps data', async (t) => {
  const srv = await startDnsServer({ host: '127.53.3.5', records: [{ name: 'x.y.test', type: 'A', data: '10.0.0.3' }] });
  t.teardown(() => srv.close());
  const ent = await resolve('y.test', { guard, servers: [srv.endpoint], timeoutMs: 1000 });
  t.equal(ent.error?.code, 'DNS_NODATA');
  srv.setRecords([{ name: 'y.test', type: 'A', data: '10.0.0.4' }]);
  const now = await resolve('y.test', { guard, servers: [srv.endpoint], timeoutMs: 1000 });
  t.same(now.addresses, ['10.0.0.4']);
});

t.test('fixed port, signal closes the server, IPv6 loopback', async (t) => {
  const ac = new AbortController();
  const first = await startDnsServer({ host: '127.53.3.6', records, signal: ac.signal });
  const port = first.endpoint.port;
  ac.abort();
  await new Promise((res) => setTimeout(res, 50));
  const again = await startDnsServer({ host: '127.53.3.6', port, records });
  t.teardown(() => again.close());
  t.equal(again.endpoint.port, port, 'the port was released by the abort');
  await t.rejects(startDnsServer({ host: '127.53.3.6', port, records }), { code: 'EADDRINUSE' });
  await t.rejects(startDnsServer({ host: 'localhost', records }), /must be an IP address/);
  const six = await startDnsServer({ host: '::1', records }).catch(() => undefined);
  if (!six) {
    t.comment('skipping the IPv6 part: no IPv6 loopback here');
    return;
  }
  t.teardown(() => six.close());
  const r = await queryServer('a.test', 'A', six.endpoint, { guard: AddressGuard.fromList('::1/128'), timeoutMs: 1000 });
  t.same(r.answers.map((a) => a.data), ['10.0.0.1']);
});
