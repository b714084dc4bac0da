// PRELOGIN answers laid out the way real servers send them, written by hand from
// captures of real servers (MS-TDS 2.2.6.5 PRELOGIN gives the layout), not made with our encoder:
//   - SQL Server 2008-2022 answering a client that sent MARS: VERSION, ENCRYPTION, INSTOPT,
//     THREADID (0 bytes, same offset as MARS), MARS: 43 bytes with the header;
//   - a server answering nmap's probe (VERSION, ENCRYPTION, INSTOPT, THREADID; no MARS): 37 bytes;
//   - the Azure SQL gateway answering tedious (which also sends FEDAUTHREQUIRED): 49 bytes.
// Header: type 0x04, status EOM, SPID 0, packet id 1. The decoder must read them all, and
// the simulated gateway must answer each request shape with exactly this layout.
import { Socket } from 'node:net';
import t from 'tap';
import { encodeMessage, PacketType, TdsMessageDecoder } from '../../src/net/tds/packet.js';
import { decodePrelogin, encodePreloginOptions, formatVersion, PreloginToken } from '../../src/net/tds/prelogin.js';
import { startTdsGateway } from '../../src/sim/tds-gateway.js';
import { makeTdsCerts } from '../helpers/tds-certs.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** SQL Server 2008 SP2 (10.0.4000.0), ENCRYPT_ON, to a client that sent MARS. */
const SQL2008_WITH_MARS = hex(`
  04 01 00 2B 00 00 01 00
  00 00 1A 00 06  01 00 20 00 01  02 00 21 00 01  03 00 22 00 00  04 00 22 00 01  FF
  0A 00 0F A0 00 00  01  00  00`);

/** SQL Server 2022 (16.0.1000.6), same layout. */
const SQL2022_WITH_MARS = hex(`
  04 01 00 2B 00 00 01 00
  00 00 1A 00 06  01 00 20 00 01  02 00 21 00 01  03 00 22 00 00  04 00 22 00 01  FF
  10 00 03 E8 00 06  01  00  00`);

/** SQL Server 2019 (15.0.4300.0) answering nmap's probe, which sends ENCRYPT_OFF and no MARS: ENCRYPT_REQ. */
const SQL2019_NO_MARS = hex(`
  04 01 00 25 00 00 01 00
  00 00 15 00 06  01 00 1B 00 01  02 00 1C 00 01  03 00 1D 00 00  FF
  0F 00 10 CC 00 00  03  00`);

/** The Azure SQL gateway (12.0.5751.0): THREADID empty, MARS, FEDAUTHREQUIRED. */
const AZURE_GATEWAY = (fedAuth: number): Buffer => hex(`
  04 01 00 31 00 00 01 00
  00 00 1F 00 06  01 00 25 00 01  02 00 26 00 01  03 00 27 00 00  04 00 27 00 01  06 00 28 00 01  FF
  0C 00 16 77 00 00  01  00  00  ${fedAuth.toString(16).padStart(2, '0')}`);

function payloadOf(packet: Buffer): Buffer {
  const messages = new TdsMessageDecoder().push(packet);
  if (messages.length !== 1 || messages[0]?.type !== PacketType.TABULAR_RESULT) throw new Error('not one TABULAR_RESULT message');
  return messages[0].payload;
}

t.test('the fixtures have the sizes real servers send', async (t) => {
  t.equal(SQL2008_WITH_MARS.length, 43);
  t.equal(SQL2022_WITH_MARS.length, 43);
  t.equal(SQL2019_NO_MARS.length, 37);
  t.equal(AZURE_GATEWAY(1).length, 49);
  for (const f of [SQL2008_WITH_MARS, SQL2019_NO_MARS, AZURE_GATEWAY(0)]) t.equal(f.readUInt16BE(2), f.length, 'length field = packet size');
});

t.test('SQL Server 2008 and 2022 with MARS (43 bytes)', async (t) => {
  for (const [packet, version] of [[SQL2008_WITH_MARS, '10.0.4000.0'], [SQL2022_WITH_MARS, '16.0.1000.6']] as const) {
    const p = decodePrelogin(payloadOf(packet), 'server');
    t.equal(p.version && formatVersion(p.version), version);
    t.equal(p.encryption, 0x01);
    t.equal(p.instance, '');
    t.equal(p.threadId, null, 'THREADID present and empty');
    t.equal(p.mars, false);
    t.equal(p.fedAuthRequired, undefined);
    t.same(p.tokens, [0, 1, 2, 3, 4]);
    t.same(p.anomalies, [], 'nothing to tolerate: this is what the spec says a server SHOULD send');
    t.same(p.options.map((o) => [o.name, o.offset, o.length]), [['VERSION', 26, 6], ['ENCRYPTION', 32, 1], ['INSTOPT', 33, 1], ['THREADID', 34, 0], ['MARS', 34, 1]]);
  }
});

t.test('an answer without MARS (37 bytes, to nmap\'s probe)', async (t) => {
  const p = decodePrelogin(payloadOf(SQL2019_NO_MARS), 'server');
  t.equal(p.version && formatVersion(p.version), '15.0.4300.0');
  t.equal(p.encryption, 0x03, 'ENCRYPT_REQ to a client that sent ENCRYPT_OFF');
  t.equal(p.mars, undefined, 'MARS absent, not false');
  t.equal(p.threadId, null);
  t.same(p.tokens, [0, 1, 2, 3]);
});

t.test('the Azure gateway (49 bytes, FEDAUTHREQUIRED)', async (t) => {
  for (const fedAuth of [0, 1]) {
    const p = decodePrelogin(payloadOf(AZURE_GATEWAY(fedAuth)), 'server');
    t.equal(p.version && formatVersion(p.version), '12.0.5751.0');
    t.equal(p.fedAuthRequired, fedAuth, `B_FEDAUTHREQUIRED ${fedAuth} recorded as sent`);
    t.equal(p.mars, false);
    t.same(p.tokens, [0, 1, 2, 3, 4, 6]);
    t.same(p.anomalies, []);
  }
});

t.test('liberal: options in another order, unknown and oversized options, duplicates', async (t) => {
  // ENCRYPTION first, VERSION second; an unknown token 0x09 of 3 bytes; THREADID of 4 bytes (older servers).
  const reordered = encodePreloginOptions([
    [PreloginToken.ENCRYPTION, hex('01')],
    [PreloginToken.VERSION, hex('0C 00 07 D0 00 08')],
    [0x09, hex('AA BB CC')],
    [PreloginToken.THREADID, hex('00 00 12 34')],
  ]);
  const p = decodePrelogin(reordered, 'server');
  t.equal(p.version && formatVersion(p.version), '12.0.2000.8');
  t.equal(p.encryption, 1);
  t.equal(p.threadId, 0x1234);
  t.same(p.options.find((o) => o.token === 0x09), { token: 0x09, name: '0x09', offset: 28, length: 3, hex: 'aabbcc' }, 'unknown option kept raw');
  t.match(p.anomalies.join('\n'), /VERSION is not the first option/);

  const odd = decodePrelogin(encodePreloginOptions([
    [PreloginToken.VERSION, hex('0C 00 07 D0 00 08')],
    [PreloginToken.MARS, hex('')],
    [PreloginToken.ENCRYPTION, hex('01 00')],
    [PreloginToken.ENCRYPTION, hex('02')],
    [PreloginToken.THREADID, hex('01 02')],
  ]), 'server');
  t.equal(odd.mars, undefined, 'a MARS of 0 bytes is not read');
  t.equal(odd.encryption, 1, 'the first ENCRYPTION counts, its first byte');
  t.equal(odd.threadId, undefined);
  t.same(odd.anomalies, [
    'MARS is 0 bytes, expected 1; not read',
    'ENCRYPTION is 2 bytes, expected 1; the first 1 read',
    'ENCRYPTION appears more than once; the first is used',
    'THREADID is 2 bytes (expected 0 or 4); not read',
  ]);
});

/** Sends one PRELOGIN (these options) to a gateway and returns the raw answer packet. */
async function exchange(port: number, host: string, options: Array<[number, Buffer]>): Promise<Buffer> {
  const socket = new Socket();
  const chunks: Buffer[] = [];
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('no answer within 10 s')); }, 10_000);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const all = Buffer.concat(chunks);
      if (all.length >= 8 && all.length >= all.readUInt16BE(2)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(all);
      }
    });
    socket.on('error', reject);
    socket.connect(port, host, () => socket.write(encodeMessage(PacketType.PRELOGIN, encodePreloginOptions(options))));
  });
}

t.test('the simulated gateway answers each request with the real layout', async (t) => {
  const certs = await makeTdsCerts(['mi1.0a1b2c3d4e5f.database.windows.net']);
  const gateway = await startTdsGateway({ host: '127.14.9.1', port: 0, ...certs.valid });
  t.teardown(() => gateway.close());
  const version = hex('0C 00 07 D0 00 08');
  const { port, host } = gateway.endpoint;

  // nmap's ms-sql-s probe: VERSION, ENCRYPTION 0x00, INSTOPT "MSSQLServer", THREADID.
  const nmap = await exchange(port, host, [[0, hex('08 00 01 55 00 00')], [1, hex('00')], [2, Buffer.from('MSSQLServer\0', 'latin1')], [3, hex('00 00 0F 48')]]);
  t.same(nmap, Buffer.concat([SQL2019_NO_MARS.subarray(0, 29), version, hex('03 00')]), '37 bytes as SQL Server answers nmap');

  // tedious 19: VERSION, ENCRYPTION ON, INSTOPT, THREADID, MARS, TRACEID, FEDAUTHREQUIRED 0x01.
  const tedious = await exchange(port, host, [[0, hex('00 00 00 00 00 00')], [1, hex('01')], [2, hex('00')], [3, hex('00 00 00 00')], [4, hex('00')],
    [5, Buffer.alloc(36, 7)], [6, hex('01')]]);
  t.same(tedious, Buffer.concat([AZURE_GATEWAY(1).subarray(0, 39), version, hex('01 00 00 01')]), '49 bytes as the Azure gateway answers tedious');

  // A client without FEDAUTHREQUIRED (FreeTDS, older tedious): the 43-byte answer.
  const older = await exchange(port, host, [[0, hex('00 00 00 00 00 00')], [1, hex('01')], [2, hex('00')], [3, hex('00 00 00 00')], [4, hex('00')]]);
  t.same(older, Buffer.concat([SQL2008_WITH_MARS.subarray(0, 34), version, hex('01 00 00')]), '43 bytes');
});
