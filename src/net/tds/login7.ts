// LOGIN7 decoder (MS-TDS 2.2.6.4), used by the simulated gateway. The client
// side of LOGIN7 is tedious'; this reads what a client sent, with every offset
// and length checked against the message. The password is de-obfuscated only
// to compare it; it never leaves this module's result except as `password`,
// which callers must not log.
//
// API: decodeLogin7(payload: Buffer) -> Login7    throws TdsProtocolError('TDS_MALFORMED')
import { TdsProtocolError } from './packet.js';

export interface Login7 {
  readonly tdsVersion: number;
  readonly packetSize: number;
  readonly hostName: string;
  readonly userName: string;
  /** De-obfuscated; do not log. */
  readonly password: string;
  readonly appName: string;
  readonly serverName: string;
  readonly libraryName: string;
  readonly database: string;
  /** FEDAUTH feature extension: a security token (UTF-16 in the message), do not log. */
  readonly fedAuthToken?: string;
  /** Feature ids requested in the FeatureExt block. */
  readonly features: readonly number[];
  /** Integrated security (SSPI) requested. */
  readonly sspi: boolean;
}

const FIXED = 94;
export const FEATURE_FEDAUTH = 0x02;
export const FEATURE_UTF8 = 0x0a;
export const FEATURE_TERMINATOR = 0xff;

function bad(message: string): TdsProtocolError {
  return new TdsProtocolError('TDS_MALFORMED', `LOGIN7: ${message}`);
}

function ucs2(payload: Buffer, at: number, field: string): string {
  const offset = payload.readUInt16LE(at);
  const chars = payload.readUInt16LE(at + 2);
  if (chars === 0) return '';
  if (offset < FIXED || offset + chars * 2 > payload.length) throw bad(`${field} at ${offset}+${chars * 2} outside the message`);
  return payload.subarray(offset, offset + chars * 2).toString('utf16le');
}

export function decodeLogin7(payload: Buffer): Login7 {
  if (payload.length < FIXED) throw bad(`${payload.length} bytes, the fixed part alone is ${FIXED}`);
  const length = payload.readUInt32LE(0);
  if (length > payload.length || length < FIXED) throw bad(`length field ${length} but ${payload.length} bytes received`);
  const optionFlags2 = payload[25] as number;
  const optionFlags3 = payload[27] as number;
  const pwOffset = payload.readUInt16LE(44);
  const pwChars = payload.readUInt16LE(46);
  let password = '';
  if (pwChars > 0) {
    if (pwOffset < FIXED || pwOffset + pwChars * 2 > payload.length) throw bad('password outside the message');
    const raw = Buffer.from(payload.subarray(pwOffset, pwOffset + pwChars * 2));
    for (let i = 0; i < raw.length; i++) {
      const b = (raw[i] as number) ^ 0xa5;
      raw[i] = ((b << 4) & 0xf0) | (b >> 4);
    }
    password = raw.toString('utf16le');
  }
  const features: number[] = [];
  let fedAuthToken: string | undefined;
  if ((optionFlags3 & 0x10) !== 0) {
    const extOffset = payload.readUInt16LE(56);
    const extLength = payload.readUInt16LE(58);
    if (extLength >= 4 && extOffset >= FIXED && extOffset + 4 <= payload.length) {
      let at = payload.readUInt32LE(extOffset);
      if (at < FIXED || at > payload.length) throw bad(`FeatureExt offset ${at} outside the message`);
      for (let n = 0; at < payload.length && n < 64; n++) {
        const id = payload[at] as number;
        if (id === FEATURE_TERMINATOR) break;
        if (at + 5 > payload.length) throw bad('FeatureExt truncated');
        const len = payload.readUInt32LE(at + 1);
        if (at + 5 + len > payload.length) throw bad(`feature 0x${id.toString(16)} runs past the message`);
        const data = payload.subarray(at + 5, at + 5 + len);
        features.push(id);
        if (id === FEATURE_FEDAUTH && data.length >= 1) {
          const library = (data[0] as number) >> 1;
          if (library === 0x01 && data.length >= 5) {
            const tokenLen = data.readUInt32LE(1);
            if (5 + tokenLen > data.length) throw bad('FEDAUTH token runs past the feature');
            fedAuthToken = data.subarray(5, 5 + tokenLen).toString('utf16le');
          }
        }
        at += 5 + len;
      }
    }
  }
  const result: Login7 = {
    tdsVersion: payload.readUInt32LE(4),
    packetSize: payload.readUInt32LE(8),
    hostName: ucs2(payload, 36, 'HostName'),
    userName: ucs2(payload, 40, 'UserName'),
    password,
    appName: ucs2(payload, 48, 'AppName'),
    serverName: ucs2(payload, 52, 'ServerName'),
    libraryName: ucs2(payload, 60, 'CltIntName'),
    database: ucs2(payload, 68, 'Database'),
    features,
    sspi: (optionFlags2 & 0x80) !== 0,
  };
  return fedAuthToken === undefined ? result : { ...result, fedAuthToken };
}
