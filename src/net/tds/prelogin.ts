// PRELOGIN codec (MS-TDS 2.2.6.5). The payload is a table of option tokens
// (token: 1 byte, offset: 2 bytes BE, length: 2 bytes BE, offsets relative to
// the payload start) ended by 0xFF, followed by the option data.
//
// Decoding is liberal in what real peers send and exact in what it reports:
// options in any order, THREADID empty (real servers send it so: the spec says
// the server SHOULD), only the options the client asked for, unknown tokens kept
// raw. It refuses only what cannot be read: a table without terminator, an
// offset or length outside the payload, data that starts inside the table, no
// VERSION, or a field shorter than the size the spec fixes for that direction.
// Tolerated deviations are listed in `anomalies`.
//
// API:
//   encodePrelogin(p: PreloginFields) -> Buffer             options in the canonical order
//   encodePreloginOptions(options) -> Buffer                exactly these options, in this order
//   decodePrelogin(payload, sender?) -> Prelogin            throws TdsProtocolError('TDS_MALFORMED')
//   encryptionName(value) -> EncryptionName, formatVersion(v), optionName(token)
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

const TOKEN_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(PreloginToken).map(([k, v]) => [v, k]));

export function optionName(token: number): string {
  return TOKEN_NAMES[token] ?? `0x${token.toString(16).padStart(2, '0')}`;
}

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

/** What a PRELOGIN carries; absent fields were not sent. */
export interface PreloginFields {
  readonly version?: PreloginVersion;
  /** Raw ENCRYPTION byte. */
  readonly encryption?: number;
  /** INSTOPT: instance name (client) or the instance-validity byte as text (server). */
  readonly instance?: string;
  /** THREADID; null = the option sent with no data (what servers send). */
  readonly threadId?: number | null;
  readonly mars?: boolean;
  /** TRACEID as 72 hex characters (connection id, activity id, sequence). */
  readonly traceId?: string;
  /** B_FEDAUTHREQUIRED as sent (a client that sends the option MUST send 0x01). */
  readonly fedAuthRequired?: number;
  /** NONCEOPT as 64 hex characters. */
  readonly nonce?: string;
}

/** One entry of the option table as received. */
export interface PreloginOption {
  readonly token: number;
  /** VERSION ... or the token in hex when unknown. */
  readonly name: string;
  readonly offset: number;
  readonly length: number;
  /** The option's data as hex, at most MAX_SHOWN_BYTES of it. */
  readonly hex: string;
}

export interface Prelogin extends PreloginFields {
  /** Tokens present, in table order (unknown ones included). */
  readonly tokens: readonly number[];
  /** Every table entry, raw, in table order. */
  readonly options: readonly PreloginOption[];
  /** Deviations from the spec that were tolerated, one line each. */
  readonly anomalies: readonly string[];
}

/** Who sent the PRELOGIN: some sizes the spec fixes differ by direction (THREADID). */
export type PreloginSender = 'server' | 'client';

/** Sizes the spec fixes. THREADID is 4 bytes from a client and SHOULD be empty from a server. */
const FIXED_LENGTH: Readonly<Record<number, number>> = {
  [PreloginToken.VERSION]: 6,
  [PreloginToken.ENCRYPTION]: 1,
  [PreloginToken.MARS]: 1,
  [PreloginToken.TRACEID]: 36,
  [PreloginToken.FEDAUTHREQUIRED]: 1,
  [PreloginToken.NONCEOPT]: 32,
};

/** Largest PRELOGIN payload we accept or produce (real ones are under 100 bytes). */
export const MAX_PRELOGIN_BYTES = 4096;
const MAX_OPTIONS = 32;
const MAX_SHOWN_BYTES = 64;

/** The option table and data for exactly these options, in this order. */
export function encodePreloginOptions(options: ReadonlyArray<readonly [number, Buffer]>): Buffer {
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

/** The options present in `p`, in the order the spec lists them (VERSION first). */
export function preloginOptions(p: PreloginFields): Array<[number, Buffer]> {
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
  if (p.threadId === null) options.push([PreloginToken.THREADID, Buffer.alloc(0)]);
  else if (p.threadId !== undefined) {
    const t = Buffer.alloc(4);
    t.writeUInt32BE(p.threadId >>> 0);
    options.push([PreloginToken.THREADID, t]);
  }
  if (p.mars !== undefined) options.push([PreloginToken.MARS, Buffer.from([p.mars ? 1 : 0])]);
  if (p.traceId !== undefined) options.push([PreloginToken.TRACEID, fixedHex(p.traceId, 36)]);
  if (p.fedAuthRequired !== undefined) options.push([PreloginToken.FEDAUTHREQUIRED, Buffer.from([p.fedAuthRequired & 0xff])]);
  if (p.nonce !== undefined) options.push([PreloginToken.NONCEOPT, fixedHex(p.nonce, 32)]);
  return options;
}

export function encodePrelogin(p: PreloginFields): Buffer {
  return encodePreloginOptions(preloginOptions(p));
}

function fixedHex(text: string, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  Buffer.from(text.replace(/[^0-9a-f]/gi, '').slice(0, bytes * 2), 'hex').copy(b);
  return b;
}

function malformed(message: string): TdsProtocolError {
  return new TdsProtocolError('TDS_MALFORMED', `PRELOGIN: ${message}`);
}

interface TableEntry { readonly token: number; readonly offset: number; readonly length: number }

/** Reads the option table up to the terminator; every entry's bounds are checked against the payload. */
function readTable(payload: Buffer): { entries: TableEntry[]; tableEnd: number } {
  const entries: TableEntry[] = [];
  let at = 0;
  while (at < payload.length) {
    const token = payload[at] as number;
    if (token === PreloginToken.TERMINATOR) return { entries, tableEnd: at + 1 };
    if (at + 5 > payload.length) throw malformed(`option table truncated at byte ${at}`);
    if (entries.length >= MAX_OPTIONS) throw malformed(`more than ${MAX_OPTIONS} options`);
    entries.push({ token, offset: payload.readUInt16BE(at + 1), length: payload.readUInt16BE(at + 3) });
    at += 5;
  }
  throw malformed('no TERMINATOR (0xFF) in the option table');
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Interprets one option's data into `out`; the length has been checked against FIXED_LENGTH. */
function readField(token: number, data: Buffer, sender: PreloginSender, out: Mutable<PreloginFields>, anomalies: string[]): void {
  switch (token) {
    case PreloginToken.VERSION:
      out.version = { major: data[0] as number, minor: data[1] as number, build: data.readUInt16BE(2), subbuild: data.readUInt16BE(4) };
      return;
    case PreloginToken.ENCRYPTION:
      out.encryption = data[0] as number;
      return;
    case PreloginToken.INSTOPT: {
      const nul = data.indexOf(0);
      out.instance = data.subarray(0, nul === -1 ? data.length : nul).toString('latin1');
      return;
    }
    case PreloginToken.THREADID:
      // From a server the spec says SHOULD be empty, and real servers send it so; a client sends 4 bytes.
      if (data.length >= 4) out.threadId = data.readUInt32BE(0);
      else if (data.length === 0) out.threadId = null;
      else anomalies.push(`THREADID is ${data.length} bytes (expected ${sender === 'server' ? '0 or 4' : '4'}); not read`);
      return;
    case PreloginToken.MARS:
      out.mars = data[0] === 1;
      return;
    case PreloginToken.TRACEID:
      out.traceId = data.subarray(0, 36).toString('hex');
      return;
    case PreloginToken.FEDAUTHREQUIRED:
      out.fedAuthRequired = data[0] as number;
      return;
    case PreloginToken.NONCEOPT:
      out.nonce = data.subarray(0, 32).toString('hex');
      return;
    default:
      return; // unknown options are kept raw in `options` (forward compatibility, as the spec asks)
  }
}

/** Decodes a PRELOGIN payload; throws TdsProtocolError('TDS_MALFORMED') only for what cannot be read. */
export function decodePrelogin(payload: Buffer, sender: PreloginSender = 'server'): Prelogin {
  if (payload.length === 0) throw malformed('empty payload');
  if (payload.length > MAX_PRELOGIN_BYTES) throw malformed(`payload of ${payload.length} bytes (limit ${MAX_PRELOGIN_BYTES})`);
  const { entries, tableEnd } = readTable(payload);
  const fields: Mutable<PreloginFields> = {};
  const anomalies: string[] = [];
  const options: PreloginOption[] = [];
  const seen = new Set<number>();
  for (const { token, offset, length } of entries) {
    const name = optionName(token);
    if (offset + length > payload.length) throw malformed(`option ${name} at ${offset}+${length} runs past the ${payload.length}-byte payload`);
    if (length > 0 && offset < tableEnd) throw malformed(`option ${name} data at ${offset} lies inside the option table (which ends at ${tableEnd})`);
    const data = payload.subarray(offset, offset + length);
    options.push({ token, name, offset, length, hex: data.subarray(0, MAX_SHOWN_BYTES).toString('hex') });
    const fixed = FIXED_LENGTH[token];
    if (fixed !== undefined && length < fixed) {
      // VERSION is what identifies the peer: without its 6 bytes there is nothing to report.
      if (token === PreloginToken.VERSION) throw malformed(`option VERSION is ${length} bytes, expected ${fixed}`);
      anomalies.push(`${name} is ${length} bytes, expected ${fixed}; not read`);
      continue;
    }
    if (fixed !== undefined && length > fixed) anomalies.push(`${name} is ${length} bytes, expected ${fixed}; the first ${fixed} read`);
    if (seen.has(token)) {
      anomalies.push(`${name} appears more than once; the first is used`);
      continue;
    }
    seen.add(token);
    readField(token, data, sender, fields, anomalies);
  }
  if (fields.version === undefined) throw malformed('no VERSION option');
  if (entries[0]?.token !== PreloginToken.VERSION) anomalies.push(`VERSION is not the first option (the spec says it MUST be): order ${entries.map((e) => optionName(e.token)).join(', ')}`);
  return { ...fields, tokens: entries.map((e) => e.token), options, anomalies };
}

export function formatVersion(v: PreloginVersion): string {
  return `${v.major}.${v.minor}.${v.build}.${v.subbuild}`;
}
