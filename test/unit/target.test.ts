import t from 'tap';
import { managementHostFromChain, normaliseHostName, parseTarget } from '../../src/diagnosis/target.js';

t.test('host name forms', async (t) => {
  const local = parseTarget('MI1.0a1b2c3d4e5f.database.windows.net.');
  t.match(local, { fqdn: 'mi1.0a1b2c3d4e5f.database.windows.net', kind: 'vnet-local', miName: 'mi1', zoneId: '0a1b2c3d4e5f',
    port: 1433, cloud: 'AzureCloud', publicName: 'mi1.public.0a1b2c3d4e5f.database.windows.net' });
  t.match(parseTarget('mi1.public.0a1b2c3d4e5f.database.windows.net'), { kind: 'public-endpoint', port: 3342,
    vnetLocalName: 'mi1.0a1b2c3d4e5f.database.windows.net' });
  t.match(parseTarget('mi1.privatelink.0a1b2c3d4e5f.database.windows.net'), { kind: 'private-link', port: 1433 });
  t.match(parseTarget('mi1.abc123.database.usgovcloudapi.net'), { kind: 'vnet-local', cloud: 'AzureUSGovernment' });
  t.match(parseTarget('mi1.abc123.database.chinacloudapi.cn'), { kind: 'vnet-local', cloud: 'AzureChinaCloud' });
  t.match(parseTarget('sql.contoso.com'), { kind: 'custom-domain', port: 1433 });
  t.equal(parseTarget('sql.contoso.com').miName, undefined);
});

t.test('malformed host names are rejected with the reason', async (t) => {
  t.throws(() => normaliseHostName(''), /empty/);
  t.throws(() => normaliseHostName('10.0.0.4'), /IP address/);
  t.throws(() => normaliseHostName('fd00::4'), /IP address/);
  t.throws(() => normaliseHostName('mi_1.zone.database.windows.net'), /label "mi_1"/);
  t.throws(() => normaliseHostName('-mi.zone.database.windows.net'), /label "-mi"/);
  t.throws(() => normaliseHostName('mi..database.windows.net'), /label ""/);
  t.throws(() => normaliseHostName(`${'a'.repeat(64)}.example.com`), /1-63 characters/);
  t.throws(() => normaliseHostName(`${'a.'.repeat(130)}com`), /longer than 253/);
  t.throws(() => normaliseHostName('localhost'), /not a fully qualified name/);
  t.throws(() => normaliseHostName('..'), /label ""/, 'dots alone are not an address');
});

t.test('management endpoint derivation removes the .vnet label', async (t) => {
  t.same(managementHostFromChain(['trx.westeurope-a.worker.vnet.database.windows.net']),
    { cnameTarget: 'trx.westeurope-a.worker.vnet.database.windows.net', host: 'trx.westeurope-a.worker.database.windows.net' });
  t.equal(managementHostFromChain(['tr5.westeurope-a.worker.database.windows.net']), undefined);
  t.equal(managementHostFromChain([]), undefined);
  t.equal(managementHostFromChain(['vnet.example.com']), undefined, 'a leading vnet label is not the marker');
});

t.test('the server as connection strings write it: tcp: prefix, ,port or :port', async (t) => {
  t.match(parseTarget('tcp:mi1.0a1b2c3d4e5f.database.windows.net,1433'), { fqdn: 'mi1.0a1b2c3d4e5f.database.windows.net', kind: 'vnet-local', port: 1433 });
  t.match(parseTarget('mi1.0a1b2c3d4e5f.database.windows.net:1433'), { kind: 'vnet-local', port: 1433 });
  t.match(parseTarget('TCP:mi1.public.0a1b2c3d4e5f.database.windows.net,3342'), { kind: 'public-endpoint', port: 3342 });
  t.throws(() => parseTarget('mi1.0a1b2c3d4e5f.database.windows.net,3342'),
    /names port 3342, but mi1\.0a1b2c3d4e5f\.database\.windows\.net is reached on 1433; port 3342 is its public endpoint's, mi1\.public\.0a1b2c3d4e5f\.database\.windows\.net: give that name/);
  t.throws(() => parseTarget('mi1.public.0a1b2c3d4e5f.database.windows.net,1433'), /is reached on 3342; port 1433 is its VNet-local name's, mi1\.0a1b2c3d4e5f\.database\.windows\.net/);
  t.throws(() => parseTarget('tcp:10.0.0.4,1433'), /is an IP address/, 'an address with a port is still an address');
  t.throws(() => parseTarget('fd00::4'), /is an IP address/);
});
