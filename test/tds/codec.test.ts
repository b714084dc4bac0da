// PRELOGIN codec against the MS-TDS section 4 example, framing bounds, LOGIN7 decoding.
import t from 'tap';
import { encodeMessage, TdsMessageDecoder, TdsProtocolError } from '../../src/net/tds/packet.js';
import { decodePrelogin, encodePrelogin, encryptionName } from '../../src/net/tds/prelogin.js';

// MS-TDS v39 4.1 "Pre-Login Request": the whole packet, header included.
const SPEC_PRELOGIN = Buffer.from(
  '12 01 00 2F 00 00 01 00 00 00 1A 00 06 01 00 20 00 01 02 00 21 00 01 03 00 22 00 04 04 00 26 00 01 FF 09 00 00 00 00 00 01 00 B8 0D 00 00 01'
    .replace(/ /g, ''), 'hex');

t.test('decodes the spec example packet', async (t) => {
  const msgs = new TdsMessageDecoder().push(SPEC_PRELOGIN);
  t.equal(msgs.length, 1);
  t.equal(msgs[0]?.type, 0x12);
  const p = decodePrelogin(msgs[0]?.payload ?? Buffer.alloc(0));
  t.same(p.version, { major: 9, minor: 0, build: 0, subbuild: 0 });
  t.equal(p.encryption, 0x01);
  t.equal(encryptionName(p.encryption ?? -1), 'ENCRYPT_ON');
  t.equal(p.instance, '');
  t.equal(p.threadId, 0xb80d0000, 'THREADID bytes B8 0D 00 00, read big-endian as tedious writes it');
  t.equal(p.mars, true);
  t.same(p.tokens, [0, 1, 2, 3, 4]);
});

t.test('encode/decode round trip with every option', async (t) => {
  const p = { version: { major: 16, minor: 0, build: 4135, subbuild: 7 }, encryption: 1, instance: 'MSSQLServer', threadId: 42, mars: false,
    traceId: 'ab'.repeat(36), fedAuthRequired: 1, nonce: 'cd'.repeat(32) };
  const d = decodePrelogin(encodePrelogin(p), 'client');
  t.match(d, p);
  t.same(d.tokens, [0, 1, 2, 3, 4, 5, 6, 7]);
  t.same(d.anomalies, []);
});

t.test('bounds on PRELOGIN: what cannot be read is refused', async (t) => {
  const good = encodePrelogin({ version: { major: 1, minor: 0, build: 0, subbuild: 0 }, encryption: 1 });
  const cases: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['no terminator', good.subarray(0, 10)],
    ['offset past the end', (() => { const b = Buffer.from(good); b.writeUInt16BE(0xfff0, 1); return b; })()],
    ['short VERSION', (() => { const b = Buffer.from(good); b.writeUInt16BE(2, 3); return b; })()],
    ['no VERSION', Buffer.from([0x01, 0x00, 0x06, 0x00, 0x01, 0xff, 0x01])],
    ['truncated table', Buffer.from([0x00, 0x00])],
    ['data inside the table', Buffer.from([0x00, 0x00, 0x00, 0x00, 0x06, 0xff, 1, 2, 3, 4, 5, 6])],
    ['too large', Buffer.alloc(5000, 0)],
  ];
  for (const [name, b] of cases) {
    t.throws(() => decodePrelogin(b), { code: 'TDS_MALFORMED' }, name);
  }
});

t.test('framing: reassembly across packets and chunk boundaries', async (t) => {
  const payload = Buffer.alloc(10_000, 7);
  const wire = encodeMessage(0x04, payload, { packetSize: 4096 });
  t.equal(wire.length, 10_000 + 3 * 8, 'three packets');
  const dec = new TdsMessageDecoder();
  const out = [];
  for (let i = 0; i < wire.length; i += 333) out.push(...dec.push(wire.subarray(i, i + 333)));
  t.equal(out.length, 1);
  t.equal(out[0]?.packets, 3);
  t.same(out[0]?.payload, payload);
  t.equal(dec.pending, 0);
});

t.test('framing: bad lengths, size cap and type switch are rejected', async (t) => {
  t.throws(() => new TdsMessageDecoder().push(Buffer.from([4, 1, 0, 4, 0, 0, 1, 0])), { code: 'TDS_BAD_LENGTH' }, 'length < 8');
  t.throws(() => new TdsMessageDecoder().push(Buffer.from([4, 1, 0xff, 0xff, 0, 0, 1, 0])), { code: 'TDS_BAD_LENGTH' }, 'length 65535');
  t.throws(() => new TdsMessageDecoder({ maxPacketSize: 4096 }).push(encodeMessage(4, Buffer.alloc(5000), { packetSize: 8000 })), { code: 'TDS_BAD_LENGTH' });
  const cap = new TdsMessageDecoder({ maxMessageBytes: 1000 });
  const big = encodeMessage(4, Buffer.alloc(3000), { packetSize: 512 });
  t.throws(() => cap.push(big), { code: 'TDS_TOO_LARGE' }, 'message cap');
  t.ok(new TdsProtocolError('TDS_CLOSED', 'x') instanceof Error);
  const a = encodeMessage(4, Buffer.alloc(600), { packetSize: 512 }).subarray(0, 512);
  const b = encodeMessage(1, Buffer.alloc(10));
  t.throws(() => new TdsMessageDecoder().push(Buffer.concat([a, b])), { code: 'TDS_BAD_TYPE' });
});
