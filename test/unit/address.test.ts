import t from 'tap';
import { cidrContains, cidrCovers, cidrSize, ipToBigInt, isPrivateAddress, parseCidr } from '../../src/net/address.js';
import { AddressGuard } from '../../src/net/guard.js';
import { parseEndpoint, formatEndpoint } from '../../src/net/endpoint.js';

t.test('CIDR parsing and containment', async (t) => {
  const net = parseCidr('10.1.2.0/24');
  t.ok(net);
  t.equal(net?.prefix, 24);
  t.ok(net && cidrContains(net, '10.1.2.255'));
  t.notOk(net && cidrContains(net, '10.1.3.0'));
  t.notOk(net && cidrContains(net, 'fd00::1'), 'families never mix');
  t.equal(parseCidr('10.1.2.3')?.prefix, 32, 'a bare address is a host route');
  for (const bad of ['10.1.2.0/33', '10.1.2/24', 'x/8', '10.0.0.0/8/1', '::1/129', '10.0.0.0/-1', '']) {
    t.equal(parseCidr(bad), undefined, `rejects ${JSON.stringify(bad)}`);
  }
  const v6 = parseCidr('fd00:abcd::/32');
  t.ok(v6 && cidrContains(v6, 'fd00:abcd:1::5'));
  t.equal(ipToBigInt('::ffff:1.2.3.4')?.value, 0xffff01020304n, 'embedded dotted quad');
  t.equal(ipToBigInt('::')?.value, 0n);
  t.equal(cidrSize(parseCidr('10.0.0.0/27')!), 32n);
  t.ok(cidrCovers(parseCidr('10.0.0.0/16')!, parseCidr('10.0.4.0/24')!));
  t.notOk(cidrCovers(parseCidr('10.0.4.0/24')!, parseCidr('10.0.0.0/16')!));
});

t.test('private address classification', async (t) => {
  for (const ip of ['10.0.0.4', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '100.127.255.254', 'fd12::1', 'fc00::1']) {
    t.ok(isPrivateAddress(ip), `${ip} is private`);
  }
  for (const ip of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '203.0.113.7', '127.0.0.1', '2001:db8::1', 'fe80::1', 'not-an-ip']) {
    t.notOk(isPrivateAddress(ip), `${ip} is not private`);
  }
});

t.test('address guard', async (t) => {
  const guard = AddressGuard.fromList('127.0.0.0/8, ::1/128');
  t.ok(guard.allows('127.53.0.1'));
  t.ok(guard.allows('::1'));
  t.notOk(guard.allows('10.0.0.1'));
  t.notOk(guard.allows('localhost'), 'names are never allowed: only addresses are checked');
  t.throws(() => guard.check('168.63.129.16'), { code: 'GUARD_DENIED', address: '168.63.129.16' });
  try {
    guard.check('168.63.129.16');
  } catch (err) {
    t.match((err as Error).message, /168\.63\.129\.16 is outside the allowed ranges \(127\.0\.0\.0\/8, ::1\/128\)/);
  }
  t.ok(AddressGuard.allowAll().allows('8.8.8.8'));
  t.notOk(AddressGuard.allowAll().restricted);
  t.throws(() => AddressGuard.fromList(['127.0.0.0/8', 'bogus']), /"bogus" is not a CIDR block/);
});

t.test('endpoint parsing', async (t) => {
  t.same(parseEndpoint('10.0.0.2', 53), { host: '10.0.0.2', port: 53 });
  t.same(parseEndpoint('10.0.0.2:5353', 53), { host: '10.0.0.2', port: 5353 });
  t.same(parseEndpoint('[::1]:5353', 53), { host: '::1', port: 5353 });
  t.same(parseEndpoint('::1', 53), { host: '::1', port: 53 });
  for (const bad of ['dns.example', '10.0.0.2:0', '10.0.0.2:65536', '10.0.0.2:x', '[::1]:', '']) {
    t.equal(parseEndpoint(bad, 53), undefined, `rejects ${JSON.stringify(bad)}`);
  }
  t.equal(formatEndpoint({ host: '::1', port: 53 }), '[::1]:53');
});
