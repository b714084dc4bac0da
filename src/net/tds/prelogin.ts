// PRELOGIN codec (MS-TDS 2.2.6.5). The payload is a table of option tokens
// (token: 1 byte, offset: 2 bytes BE, length: 2 bytes BE, offsets relative to
// the payload start) ended by 0xFF, followed by the option data. Decoding checks
// every offset and length against the payload and each option's own size.
//
// API:
//   encodePrelogin(p: Prelogin) -> Buffer
//   decodePrelogin(payload: Buffer) -> Prelogin      throws TdsProtocolError('TDS_MALFORMED')
//   encryptionName(value) -> EncryptionName
import { TdsProtocolError } from './packet.js';

export const PreloginToken = {
  VERSION: 0x00,
  ENCRYPTION: 0x01,
  INSTOPT: 0x02,
  THREADID: 0x03,
  MARS: 0x04,
  TRACEID: 0x05,
  FEDAUTHREQUIRED: 0x06,
  NONCEOPT: 0x07,
  TERMINATOR: 0xff,
} as const;

export const Encryption = {
  OFF: 0x00,
  ON: 0x01,
  NOT_SUP: 0x02,
  REQ: 0x03,
  /** TDS 8 (strict): the value a client may send inside the TLS session. */
  STRICT: 0x04,
  CLIENT_CERT: 0x80,
} as const;

export type EncryptionName = 'ENCRYPT_OFF' | 'ENCRYPT_ON' | 'ENCRYPT_NOT_SUP' | 'ENCRYPT_REQ' | 'ENCRYPT_STRICT' | 'UNKNOWN';

export function encryptionName(value: number): EncryptionName {
  switch (value & 0x0f) {
    case Encryption.OFF: return 'ENCRYPT_OFF';
    case Encryption.ON: return 'ENCRYPT_ON';
    case Encryption.NOT_SUP: return 'ENCRYPT_NOT_SUP';
    case Encryption.REQ: return 'ENCRYPT_REQ';
    case Encryption.STRICT: return 'ENCRYPT_STRICT';
    default: return 'UNKNOWN';
  }
}

export interface PreloginVersion {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
  readonly subbuild: number;
}

/** A decoded PRELOGIN; absent fields were not in the message. Buffers as hex for JSON. */
export interface Prelogin {
  readonly version?: PreloginVersion;
  /** Raw ENCRYPTION byte. */
  readonly encryption?: number;
  /** INSTOPT: instance name (client) or the instance-validity byte as text (server). */
  readonly instance?: string;
  readonly threadId?: number;
  readonly mars?: boolean;
  /** TRACEID as 72 hex characters (connection id, activity id, sequence). */
  readonly traceId?: string;
  readonly fedAuthRequired?: boolean;
  /** NONCEOPT as 64 hex characters. */
  readonly nonce?: string;
  /** Tokens present, in order (unknown ones included). */
  readonly tokens?: readonly number[];
}

const FIXED_LENGTH: Partial<Record<number, number>> = {
  [PreloginToken.VERSION]: 6,
  [PreloginToken.ENCRYPTION]: 1,
  [PreloginToken.THREADID]: 4,
  [PreloginToken.MARS]: 1,
  [PreloginToken.TRACEID]: 36,
  [PreloginToken.FEDAUTHREQUIRED]: 1,
  [PreloginToken.NONCEOPT]: 32,
};

/** Largest PRELOGIN payload we accept or produce (real ones are under 100 bytes). */
export const MAX_PRELOGIN_BYTES = 4096;

export function encodePrelogin(p: Prelogin): Buffer {
  const options: Array<[number, Buffer]> = [];
  const version = p.version ?? { major: 0, minor: 0, build: 0, subbuild: 0 };
  const v = Buffer.alloc(6);
  v[0] = version.major & 0xff;
  v[1] = version.minor & 0xff;
  v.writeUInt16BE(version.build & 0xffff, 2);
  v.writeUInt16BE(version.subbuild & 0xffff, 4);
  options.push([PreloginToken.VERSION, v]);
  if (p.encryption !== undefined) options.push([PreloginToken.ENCRYPTION, Buffer.from([p.encryption & 0xff])]);
  if (p.instance !== undefined) options.push([PreloginToken.INSTOPT, Buffer.concat([Buffer.from(p.instance, 'latin1'), Buffer.from([0])])]);
  if (p.threadId !== undefined) {
    const t = Buffer.alloc(4);
    t.writeUInt32BE(p.threadId >>> 0);
    options.push([PreloginToken.THREADID, t]);
  }
  if (p.mars !== undefined) options.push([PreloginToken.MARS, Buffer.from([p.mars ? 1 : 0])]);
  if (p.traceId !== undefined) options.push([PreloginToken.TRACEID, fixedHex(p.traceId, 36)]);
  if (p.fedAuthRequired !== undefined) options.push([PreloginToken.FEDAUTHREQUIRED, Buffer.from([p.fedAuthRequired ? 1 : 0])]);
  if (p.nonce !== undefined) options.push([PreloginToken.NONCEOPT, fixedHex(p.nonce, 32)]);
  const tableLength = options.length * 5 + 1;
  const dataLength = options.reduce((n, [, d]) => n + d.length, 0);
  const out = Buffer.alloc(tableLength + dataLength);
  let entry = 0;
  let data = tableLength;
  for (const [token, d] of options) {
    out[entry] = token;
    out.writeUInt16BE(data, entry + 1);
    out.writeUInt16BE(d.length, entry + 3);
    d.copy(out, data);
    entry += 5;
    data += d.length;
  }
  out[entry] = PreloginToken.TERMINATOR;
  return out;
}

function fixedHex(text: string, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  Buffer.from(text.replace(/[^0-9a-f]/gi, '').slice(0, bytes * 2), 'hex').copy(b);
  return b;
}

function malformed(message: string): TdsProtocolError {
  return new TdsProtocolError('TDS_MALFORMED', `PRELOGIN: ${message}`);
}

/** Decodes a PRELOGIN payload with strict bounds; throws TdsProtocolError. */
export function decodePrelogin(payload: Buffer): Prelogin {
  if (payload.length === 0) throw malformed('empty payload');
  if (payload.length > MAX_PRELOGIN_BYTES) throw malformed(`payload of ${payload.length} bytes (limit ${MAX_PRELOGIN_BYTES})`);
  const result: { -readonly [K in keyof Prelogin]: Prelogin[K] } = {};
  const tokens: number[] = [];
  let at = 0;
  let tableEnd = -1;
  const seen = new Set<number>();
  while (at < payload.length) {
    const token = payload[at] as number;
    if (token === PreloginToken.TERMINATOR) {
      tableEnd = at + 1;
      break;
    }
    if (at + 5 > payload.length) throw malformed(`option table truncated at byte ${at}`);
    if (tokens.length >= 32) throw malformed('more than 32 options');
    const offset = payload.readUInt16BE(at + 1);
    const length = payload.readUInt16BE(at + 3);
    at += 5;
    if (seen.has(token)) throw malformed(`option 0x${token.toString(16)} appears twice`);
    seen.add(token);
    tokens.push(token);
    if (offset + length > payload.length) {
      throw malformed(`option 0x${token.toString(16)} at ${offset}+${length} runs past the ${payload.length}-byte payload`);
    }
    const data = payload.subarray(offset, offset + length);
    const fixed = FIXED_LENGTH[token];
    if (fixed !== undefined && length < fixed) {
      throw malformed(`option 0x${token.toString(16)} is ${length} bytes, expected ${fixed}`);
    }
    switch (token) {
      case PreloginToken.VERSION:
        result.version = { major: data[0] as number, minor: data[1] as number, build: data.readUInt16BE(2), subbuild: data.readUInt16BE(4) };
        break;
      case PreloginToken.ENCRYPTION:
        result.encryption = data[0] as number;
        break;
      case PreloginToken.INSTOPT: {
        const nul = data.indexOf(0);
        result.instance = data.subarray(0, nul === -1 ? data.length : nul).toString('latin1');
        break;
      }
      case PreloginToken.THREADID:
        result.threadId = data.readUInt32BE(0);
        break;
      case PreloginToken.MARS:
        result.mars = data[0] === 1;
        break;
      case PreloginToken.TRACEID:
        result.traceId = data.subarray(0, 36).toString('hex');
        break;
      case PreloginToken.FEDAUTHREQUIRED:
        result.fedAuthRequired = data[0] === 1;
        break;
      case PreloginToken.NONCEOPT:
        result.nonce = data.subarray(0, 32).toString('hex');
        break;
      default:
        break; // unknown options are tolerated (forward compatibility), as the spec asks
    }
  }
  if (tableEnd === -1) throw malformed('no TERMINATOR (0xFF) in the option table');
  if (tokens[0] !== undefined && tokens[0] !== PreloginToken.VERSION) throw malformed('VERSION is not the first option');
  if (result.version === undefined) throw malformed('no VERSION option');
  result.tokens = tokens;
  return result;
}

export function formatVersion(v: PreloginVersion): string {
  return `${v.major}.${v.minor}.${v.build}.${v.subbuild}`;
}
