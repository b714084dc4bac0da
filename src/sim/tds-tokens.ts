// Server-side TDS token encoders (MS-TDS 2.2.7) for the simulated gateway:
// LOGINACK, ENVCHANGE (database, collation, packet size, routing), ERROR, INFO,
// DONE, FEATUREEXTACK, COLMETADATA + ROW for one INT column.

function bVarchar(text: string): Buffer {
  const s = Buffer.from(text.slice(0, 255), 'utf16le');
  return Buffer.concat([Buffer.from([s.length / 2]), s]);
}

function usVarchar(text: string): Buffer {
  const s = Buffer.from(text.slice(0, 65535), 'utf16le');
  const len = Buffer.alloc(2);
  len.writeUInt16LE(s.length / 2);
  return Buffer.concat([len, s]);
}

function withLength16(token: number, body: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head[0] = token;
  head.writeUInt16LE(body.length, 1);
  return Buffer.concat([head, body]);
}

export const TDS_74 = 0x74000004;

export function loginAck(progName: string, tdsVersion = TDS_74, version: readonly [number, number, number] = [12, 0, 2000]): Buffer {
  const v = Buffer.alloc(5);
  v[0] = 1; // SQL_TSQL
  v.writeUInt32BE(tdsVersion >>> 0, 1);
  const pv = Buffer.from([version[0] & 0xff, version[1] & 0xff, (version[2] >> 8) & 0xff, version[2] & 0xff]);
  return withLength16(0xad, Buffer.concat([v, bVarchar(progName), pv]));
}

export function envChangeString(type: number, newValue: string, oldValue: string): Buffer {
  return withLength16(0xe3, Buffer.concat([Buffer.from([type]), bVarchar(newValue), bVarchar(oldValue)]));
}

export const ENV_DATABASE = 1;
export const ENV_PACKET_SIZE = 4;
export const ENV_COLLATION = 7;
export const ENV_ROUTING = 20;

/** SQL collation Latin1_General_CI_AS (LCID 0x0409, flags, sort id 0x34). */
export function envChangeCollation(): Buffer {
  const collation = Buffer.from([0x09, 0x04, 0xd0, 0x00, 0x34]);
  return withLength16(0xe3, Buffer.concat([Buffer.from([ENV_COLLATION, collation.length]), collation, Buffer.from([0])]));
}

/** Routing ENVCHANGE (type 20): protocol 0 (TCP), port, alternate server. */
export function envChangeRouting(server: string, port: number): Buffer {
  const value = Buffer.concat([Buffer.from([0, port & 0xff, (port >> 8) & 0xff]), usVarchar(server)]);
  const len = Buffer.alloc(2);
  len.writeUInt16LE(value.length);
  return withLength16(0xe3, Buffer.concat([Buffer.from([ENV_ROUTING]), len, value, Buffer.from([0, 0])]));
}

/** LOGIN7 FeatureExt id of ENHANCEDROUTINGSUPPORT (MS-TDS 2.2.6.4); SQL Server itself does not support it. */
export const FEATURE_ENHANCED_ROUTING = 0x0f;
export const ENV_ENHANCED_ROUTING = 21;

/** Enhanced Routing ENVCHANGE (type 21): protocol 0 (TCP), port, alternate server, alternate database. */
export function envChangeEnhancedRouting(server: string, port: number, database: string): Buffer {
  const value = Buffer.concat([Buffer.from([0, port & 0xff, (port >> 8) & 0xff]), usVarchar(server), usVarchar(database.slice(0, 128))]);
  const len = Buffer.alloc(2);
  len.writeUInt16LE(value.length);
  return withLength16(0xe3, Buffer.concat([Buffer.from([ENV_ENHANCED_ROUTING]), len, value, Buffer.from([0, 0])]));
}

function message(token: number, number: number, state: number, cls: number, text: string, server: string): Buffer {
  const head = Buffer.alloc(6);
  head.writeUInt32LE(number >>> 0, 0);
  head[4] = state;
  head[5] = cls;
  const line = Buffer.alloc(4);
  line.writeUInt32LE(1);
  return withLength16(token, Buffer.concat([head, usVarchar(text), bVarchar(server), bVarchar(''), line]));
}

export function errorToken(number: number, state: number, cls: number, text: string, server: string): Buffer {
  return message(0xaa, number, state, cls, text, server);
}

export function infoToken(number: number, text: string, server: string): Buffer {
  return message(0xab, number, 1, 0, text, server);
}

export const DONE_FINAL = 0x0000;
export const DONE_MORE = 0x0001;
export const DONE_ERROR = 0x0002;
export const DONE_COUNT = 0x0010;
export const DONE_ATTN = 0x0020;

export function done(status: number, rowCount = 0, token = 0xfd): Buffer {
  const b = Buffer.alloc(13);
  b[0] = token;
  b.writeUInt16LE(status, 1);
  b.writeUInt16LE(0xc1, 3); // CurCmd: SELECT
  b.writeBigUInt64LE(BigInt(rowCount), 5);
  return b;
}

/** FEATUREEXTACK acknowledging the given features with empty data. */
export function featureExtAck(features: readonly number[]): Buffer {
  const parts = features.map((id) => Buffer.from([id, 0, 0, 0, 0]));
  return Buffer.concat([Buffer.from([0xae]), ...parts, Buffer.from([0xff])]);
}

/** COLMETADATA for one nullable INT (INTN, 4 bytes) column, then one ROW per value. */
export function intResult(columnName: string, values: readonly number[]): Buffer {
  const col = Buffer.alloc(9);
  col.writeUInt16LE(1, 0); // count
  col.writeUInt32LE(0, 2); // UserType
  col.writeUInt16LE(0x0001, 6); // Flags: nullable
  col[8] = 0x26; // INTNTYPE
  const meta = Buffer.concat([Buffer.from([0x81]), col, Buffer.from([4]), bVarchar(columnName)]);
  const rows = values.map((v) => {
    const r = Buffer.alloc(6);
    r[0] = 0xd1;
    r[1] = 4;
    r.writeInt32LE(v | 0, 2);
    return r;
  });
  return Buffer.concat([meta, ...rows]);
}
