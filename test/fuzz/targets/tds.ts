// Fuzz targets for what a TDS peer sends: packet framing, PRELOGIN, the
// TLS-in-TDS shim, and LOGIN7 (what a client sends the simulated gateway).
// Seeds are real-shaped: the PRELOGIN replies real servers send (test/tds/prelogin-conformance.test.ts:
// SQL Server 2008's 43-byte reply with an empty THREADID, nmap's 37-byte one,
// the Azure gateway's 49-byte one), tedious' own LOGIN7, a TLS record.
import { PassThrough } from 'node:stream';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import * as login7Module from 'tedious/lib/login7-payload.js';
import { encodeMessage, MAX_PACKET_SIZE, PacketType, TdsMessageDecoder, TdsProtocolError } from '../../../src/net/tds/packet.js';
import { decodePrelogin, encodePrelogin, MAX_PRELOGIN_BYTES } from '../../../src/net/tds/prelogin.js';
import { decodeLogin7 } from '../../../src/net/tds/login7.js';
import { TdsTlsShim } from '../../../src/net/tds/tls-shim.js';
import { done, envChangeRouting, errorToken, loginAck } from '../../../src/sim/tds-tokens.js';
import type { FuzzTarget, Verdict } from '../harness.js';
import { bytesFrom } from '../mutate.js';
import { chunksOf, showCutStream, type CutStream } from '../stream.js';

/** A PRELOGIN payload from (token, data) options, offsets computed as MS-TDS 2.2.6.5 lays them out. */
function prelogin(options: readonly (readonly [number, readonly number[]])[]): Buffer {
  const table = options.length * 5 + 1;
  const out: number[] = [];
  let data = table;
  for (const [token, bytes] of options) {
    out.push(token, data >> 8, data & 0xff, bytes.length >> 8, bytes.length & 0xff);
    data += bytes.length;
  }
  out.push(0xff);
  for (const [, bytes] of options) out.push(...bytes);
  return Buffer.from(out);
}

export function preloginSeeds(): Buffer[] {
  const v2008 = [10, 0, 0x06, 0x40, 0, 0]; // 10.0.1600.0
  return [
    // SQL Server 2008 (FreeTDS #605): VERSION, ENCRYPTION, INSTOPT, THREADID (empty), MARS: 35 + 8 = 43 bytes.
    prelogin([[0, v2008], [1, [0x02]], [2, [0]], [3, []], [4, [0]]]),
    // What nmap's probe gets back (no MARS asked): 29 + 8 = 37 bytes.
    prelogin([[0, v2008], [1, [0x02]], [2, [0]], [3, []]]),
    // The Azure SQL gateway: 12.0.5751.0, ENCRYPT_ON, FEDAUTHREQUIRED: 41 + 8 = 49 bytes.
    prelogin([[0, [12, 0, 0x16, 0x77, 0, 0]], [1, [0x01]], [2, [0]], [3, []], [4, [0]], [6, [0x01]]]),
    // This project's own encoder (THREADID of 4 bytes, as clients send it).
    encodePrelogin({ version: { major: 16, minor: 0, build: 4135, subbuild: 0 }, encryption: 1, instance: '', threadId: 1234, mars: false }),
  ];
}

export const preloginTarget: FuzzTarget<Buffer> = {
  name: 'tds: PRELOGIN',
  contract: 'decodePrelogin(payload) returns a Prelogin or throws TdsProtocolError',
  sizeCap: MAX_PRELOGIN_BYTES,
  async prepare() {
    return {
      input: bytesFrom(preloginSeeds(), 200), size: (b) => b.length,
      run(payload): Verdict {
        try {
          JSON.stringify(decodePrelogin(payload));
          return 'ok';
        } catch (err) {
          if (err instanceof TdsProtocolError) return 'typed';
          throw err;
        }
      },
    };
  },
};

type Stream = CutStream;

function streamOf(seeds: readonly Buffer[], randomMax: number): fc.Arbitrary<Stream> {
  return fc.record({ bytes: bytesFrom(seeds, randomMax), cuts: fc.array(fc.nat(), { maxLength: 8 }) });
}

function packetSeeds(): Buffer[] {
  const tokens = Buffer.concat([loginAck('Microsoft SQL Server'), envChangeRouting('b35a36c6735e.tr32.westus1-a.worker.database.windows.net', 11143),
    errorToken(18456, 1, 14, "Login failed for user 'miprobe_probe'.", 'gw'), done(0)]);
  return [
    encodeMessage(PacketType.PRELOGIN, preloginSeeds()[2] as Buffer),
    encodeMessage(PacketType.TABULAR_RESULT, tokens),
    encodeMessage(PacketType.TABULAR_RESULT, Buffer.concat([tokens, tokens, tokens, tokens]), { packetSize: 512 }),
    Buffer.concat([encodeMessage(PacketType.PRELOGIN, preloginSeeds()[0] as Buffer), encodeMessage(PacketType.TABULAR_RESULT, done(0))]),
  ];
}

export const packetTarget: FuzzTarget<Stream> = {
  name: 'tds: packet framing',
  contract: 'TdsMessageDecoder.push(chunk) returns whole messages or throws TdsProtocolError; buffers at most one packet and one message',
  sizeCap: 1024 * 1024,
  async prepare() {
    return {
      input: streamOf(packetSeeds(), 1200), size: (x) => x.bytes.length, show: showCutStream,
      run(x): Verdict {
        const decoder = new TdsMessageDecoder({ maxMessageBytes: 64 * 1024 });
        let messages = 0;
        try {
          for (const chunk of chunksOf(x)) {
            for (const m of decoder.push(chunk)) {
              messages++;
              if (m.payload.length > 64 * 1024) throw new Error(`message of ${m.payload.length} bytes past the cap`);
            }
            if (decoder.pending > 64 * 1024 + MAX_PACKET_SIZE + chunk.length) throw new Error(`decoder holds ${decoder.pending} bytes`);
          }
        } catch (err) {
          if (err instanceof TdsProtocolError) return 'typed';
          throw err;
        }
        return messages > 0 ? 'ok' : 'typed';
      },
    };
  },
};

type Login7PayloadClass = new (o: Record<string, number>) => Record<string, unknown> & { toBuffer(): Buffer };

function login7Seeds(): Buffer[] {
  const mod = login7Module as unknown as { default: Login7PayloadClass | { default: Login7PayloadClass } };
  const Payload = 'default' in mod.default ? mod.default.default : mod.default;
  const make = (fill: (p: Record<string, unknown>) => void): Buffer => {
    const p = new Payload({ tdsVersion: 0x74000004, packetSize: 4096, clientProgVer: 0, clientPid: 4242, connectionId: 0, clientTimeZone: 0, clientLcid: 0x409 });
    Object.assign(p, { hostname: 'probe-host', appName: 'miprobe', libraryName: 'Tedious', serverName: 'mi1.0a1b2c3d4e5f.database.windows.net', database: 'master' });
    fill(p);
    return p.toBuffer();
  };
  return [
    make((p) => Object.assign(p, { userName: 'miprobe_probe', password: 'not-a-real-password' })),
    make((p) => Object.assign(p, { fedAuth: { type: 'SECURITYTOKEN', echo: false, fedAuthToken: 'eyJ0eXAiOiJKV1QiLCJhbGciOi' } })),
    make((p) => Object.assign(p, { sspi: Buffer.from('4e544c4d5353500001000000', 'hex') })),
  ];
}

export const login7Target: FuzzTarget<Buffer> = {
  name: 'tds: LOGIN7 (simulated gateway)',
  contract: 'decodeLogin7(payload) returns a Login7 or throws TdsProtocolError',
  sizeCap: 64 * 1024,
  async prepare() {
    return {
      input: bytesFrom(login7Seeds(), 400), size: (b) => b.length,
      run(payload): Verdict {
        try {
          const l = decodeLogin7(payload);
          JSON.stringify(l);
          return 'ok';
        } catch (err) {
          if (err instanceof TdsProtocolError) return 'typed';
          throw err;
        }
      },
    };
  },
};

/** A socket stand-in for the shim: data is emitted by the test; writes are swallowed. */
class FakeSocket extends PassThrough {
  override write(): boolean {
    return true;
  }
}

function tlsSeeds(): Buffer[] {
  // A TLS 1.2 ClientHello-shaped record (content type 22, version 3.1) and an application-data record.
  const hello = Buffer.concat([Buffer.from([0x01, 0x00, 0x00, 0x30, 0x03, 0x03]), Buffer.alloc(44, 0x41)]);
  const record = (type: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([type, 0x03, 0x03, body.length >> 8, body.length & 0xff]), body]);
  return [
    encodeMessage(PacketType.PRELOGIN, record(0x16, hello)),
    Buffer.concat([encodeMessage(PacketType.PRELOGIN, record(0x16, hello), { packetSize: 512 }), record(0x17, Buffer.alloc(64, 7))]),
    record(0x17, Buffer.alloc(300, 9)),
  ];
}

export const tlsShimTarget: FuzzTarget<Stream> = {
  name: 'tds: TLS-in-TDS shim',
  contract: 'TdsTlsShim passes TLS bytes on, or is destroyed with a TdsProtocolError; never throws from a data event',
  sizeCap: 1024 * 1024,
  async prepare() {
    return {
      input: streamOf(tlsSeeds(), 1200), size: (x) => x.bytes.length, show: showCutStream,
      async run(x): Promise<Verdict> {
        const socket = new FakeSocket();
        const shim = new TdsTlsShim(socket as unknown as Socket, 'server');
        let failure: unknown;
        let passed = 0;
        shim.on('error', (err) => { failure = err; });
        shim.on('data', (d: Buffer) => { passed += d.length; });
        for (const chunk of chunksOf(x)) {
          socket.emit('data', chunk);
          if (shim.destroyed) break;
        }
        await new Promise((resolve) => setImmediate(resolve));
        shim.destroy();
        if (failure !== undefined && !(failure instanceof TdsProtocolError)) throw failure;
        if (passed > x.bytes.length) throw new Error(`passed ${passed} bytes of ${x.bytes.length}`);
        return failure === undefined ? 'ok' : 'typed';
      },
    };
  },
};

export const tdsTargets = [preloginTarget, packetTarget, login7Target, tlsShimTarget] as unknown as readonly FuzzTarget<never>[];
