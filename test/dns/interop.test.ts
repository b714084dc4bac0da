// Interop on loopback (127.53.9.0/24): dig against the simulated server, and
// miprobe against real dnsmasq and unbound processes serving the same MI zone,
// compared with what dig sees from the same servers.
import t from 'tap';
import { resolve } from '../../src/net/dns/resolve.js';
import { queryServer } from '../../src/net/dns/client.js';
import type { DnsHop } from '../../src/net/dns/types.js';
import type { Endpoint } from '../../src/net/endpoint.js';
import { startDnsServer, type SimRecord } from '../../src/sim/dns-server.js';
import { buildMiZone, miZoneNames } from '../../src/sim/mi-zone.js';
import { dig, dnsTestGuard, findTool, startDnsmasq, startUnbound } from '../helpers/dns.js';

const guard = dnsTestGuard();
const params = { miName: 'mi1', zoneId: '0a1b2c3d4e5f', region: 'westeurope', ilbAddress: '10.0.0.10',
  managementAddress: '203.0.113.7', publicAddress: '203.0.113.8' };
const names = miZoneNames(params);
const zone: SimRecord[] = [
  ...buildMiZone(params),
  { name: 'two.test', type: 'CNAME', data: names.vnetLocal },
  ...Array.from({ length: 100 }, (_, i) => ({ name: 'big.test', type: 'A' as const, data: `10.2.0.${i + 1}` })),
];
const [digPath, dnsmasqPath, unboundPath] = await Promise.all([findTool('dig'), findTool('dnsmasq'), findTool('unbound')]);

const key = (h: DnsHop): string => `${h.name} ${h.type} ${h.data} ${h.ttl}`;

/** What a stub following partial chains with dig sees: dig the name, then each dangling CNAME target. */
async function digChain(server: Endpoint, name: string, type: 'A' | 'AAAA', extra: readonly string[] = []): Promise<{ status: string; chain: DnsHop[] }> {
  const chain: DnsHop[] = [];
  let current = name;
  for (let i = 0; i < 20; i += 1) {
    const r = await dig(digPath as string, server, current, type, extra);
    if (r.status !== 'NOERROR') return { status: r.status, chain };
    let moved = false;
    for (let hop = r.answers.find((a) => a.type === 'CNAME' && a.name === current); hop;
      hop = r.answers.find((a) => a.type === 'CNAME' && a.name === current)) {
      chain.push(hop);
      current = hop.data;
      moved = true;
    }
    const addrs = r.answers.filter((a) => a.type === type && a.name === current);
    chain.push(...addrs);
    if (addrs.length > 0 || !moved) return { status: r.status, chain };
  }
  return { status: 'LOOP', chain };
}

t.test('dig and miprobe agree on the simulated server', { skip: digPath ? false : 'dig not installed' }, async (t) => {
  const srv = await startDnsServer({ host: '127.53.9.1', records: zone });
  t.teardown(() => srv.close());
  for (const name of [names.vnetLocal, names.management ?? '', names.public ?? '', 'two.test']) {
    const d = await dig(digPath as string, srv.endpoint, name, 'A', ['+norecurse']);
    const q = await queryServer(name, 'A', srv.endpoint, { guard, timeoutMs: 2000, recursionDesired: false });
    t.equal(d.status, 'NOERROR', name);
    t.same(q.answers.map(key), d.answers.map(key), `one query: same records for ${name}`);
    const r = await resolve(name, { guard, servers: [srv.endpoint], timeoutMs: 2000, ipv6: false });
    t.same(r.chain.map(key), d.answers.map(key), `resolve: same chain for ${name}`);
  }
  const viaTcp = await dig(digPath as string, srv.endpoint, names.vnetLocal, 'A', ['+tcp']);
  const q = await queryServer(names.vnetLocal, 'A', srv.endpoint, { guard, timeoutMs: 2000, tcpOnly: true });
  t.same(q.answers.map(key), viaTcp.answers.map(key), 'over TCP too');
  const nx = await dig(digPath as string, srv.endpoint, 'nothing.test', 'A');
  const rnx = await resolve('nothing.test', { guard, servers: [srv.endpoint], timeoutMs: 2000 });
  t.equal(nx.status, 'NXDOMAIN');
  t.equal(rnx.error?.code, 'DNS_NXDOMAIN');
  // 100 A records do not fit 512 bytes: dig (bufsize 512) and miprobe (1232) both get TC and retry on TCP.
  const big = await dig(digPath as string, srv.endpoint, 'big.test', 'A', ['+bufsize=512']);
  const rbig = await resolve('big.test', { guard, servers: [srv.endpoint], timeoutMs: 2000, ipv6: false });
  t.equal(rbig.transport, 'tcp');
  t.equal(big.answers.length, 100);
  t.same(rbig.chain.map(key).sort(), big.answers.map(key).sort());
  t.same(srv.queries().filter((x) => x.name === 'big.test').map((x) => x.transport), ['udp', 'tcp', 'udp', 'tcp']);
});

t.test('partial chains: dig following by hand and miprobe agree', { skip: digPath ? false : 'dig not installed' }, async (t) => {
  const srv = await startDnsServer({ host: '127.53.9.2', records: zone, partialChain: true });
  t.teardown(() => srv.close());
  const d = await digChain(srv.endpoint, 'two.test', 'A', ['+norecurse']);
  const r = await resolve('two.test', { guard, servers: [srv.endpoint], timeoutMs: 2000, ipv6: false });
  t.equal(d.chain.length, 3);
  t.same(r.chain.map(key), d.chain.map(key));
});

t.test('miprobe against dnsmasq returns what dig does', { skip: !digPath ? 'dig not installed' : !dnsmasqPath ? 'dnsmasq not installed' : false }, async (t) => {
  const args = [
    `--host-record=${names.target},${params.ilbAddress}`,
    `--host-record=${names.management},${params.managementAddress}`,
    `--cname=${names.vnetLocal},${names.target}`,
    `--host-record=${names.publicTarget},${params.publicAddress}`,
    `--cname=${names.public},${names.publicTarget}`,
    `--cname=two.test,${names.vnetLocal}`,
    '--host-record=v6.test,fd00::6',
    '--local=/test/',
  ];
  const dm = await startDnsmasq(dnsmasqPath as string, digPath as string, '127.53.9.3', args, names.target);
  t.teardown(() => dm.stop());
  for (const name of [names.vnetLocal, names.management ?? '', names.public ?? '', 'two.test']) {
    const d = await digChain(dm.endpoint, name, 'A');
    const r = await resolve(name, { guard, servers: [dm.endpoint], timeoutMs: 3000, ipv6: false });
    t.equal(r.ok, true, `${name}: ${r.error?.message ?? 'ok'}`);
    t.same(r.chain.map(key), d.chain.map(key), `same chain for ${name}`);
  }
  const mi = await resolve(names.vnetLocal, { guard, servers: [dm.endpoint], timeoutMs: 3000 });
  t.same(mi.addresses, ['10.0.0.10'], 'with AAAA asked too, the IPv4-only name still resolves');
  const v6 = await resolve('v6.test', { guard, servers: [dm.endpoint], timeoutMs: 3000 });
  t.same(v6.addresses, ['fd00::6']);
  const nx = await resolve('nothing.test', { guard, servers: [dm.endpoint], timeoutMs: 3000 });
  t.equal((await dig(digPath as string, dm.endpoint, 'nothing.test', 'A')).status, 'NXDOMAIN');
  t.equal(nx.error?.code, 'DNS_NXDOMAIN');
  // Without upstream servers dnsmasq refuses names outside its data.
  const refused = await resolve('outside.example', { guard, servers: [dm.endpoint], timeoutMs: 3000 });
  t.equal((await dig(digPath as string, dm.endpoint, 'outside.example', 'A')).status, 'REFUSED');
  t.equal(refused.error?.code, 'DNS_REFUSED');
});

t.test('miprobe against unbound (partial chains from local-data) returns what dig does', {
  skip: !digPath ? 'dig not installed' : !unboundPath ? 'unbound not installed' : false }, async (t) => {
  const data = zone.filter((r) => r.name !== 'big.test').map((r) => `${r.name}. 60 IN ${r.type} ${r.data}${r.type === 'CNAME' ? '.' : ''}`);
  const ub = await startUnbound(unboundPath as string, digPath as string, '127.53.9.4', ['database.windows.net', 'test'], data, names.target);
  t.teardown(() => ub.stop());
  for (const name of [names.vnetLocal, names.management ?? '', names.public ?? '', 'two.test']) {
    const d = await digChain(ub.endpoint, name, 'A');
    const r = await resolve(name, { guard, servers: [ub.endpoint], timeoutMs: 3000, ipv6: false });
    t.equal(r.ok, true, `${name}: ${r.error?.message ?? 'ok'}`);
    t.same(r.chain.map(key), d.chain.map(key), `same chain for ${name}`);
  }
  const two = await resolve('two.test', { guard, servers: [ub.endpoint], timeoutMs: 3000, ipv6: false });
  t.equal(two.queries, 3, 'unbound returns one hop per answer: miprobe followed twice');
  const nx = await resolve('nothing.test', { guard, servers: [ub.endpoint], timeoutMs: 3000 });
  t.equal(nx.error?.code, 'DNS_NXDOMAIN');
  const nodata = await resolve(names.vnetLocal, { guard, servers: [ub.endpoint], timeoutMs: 3000 });
  t.same(nodata.addresses, ['10.0.0.10']);
});
