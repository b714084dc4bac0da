// A simulated MI gateway speaking real TDS: PRELOGIN, TLS inside TDS 7.x and
// TDS 8.0 strict (ALPN tds/8.0), LOGIN7 -> LOGINACK (+ENVCHANGE database,
// collation, packet size, DONE), routing ENVCHANGE (type 20, or 21 to a client
// that announced ENHANCEDROUTINGSUPPORT) to a node, ERROR tokens (18456, 40532),
// and enough SQL batch to answer `SELECT <int>`. A redirect node is another
// instance of the same server (behaviour 'node').
//
// PRELOGIN answers are laid out as real servers lay them out (MS-TDS 2.2.6.5 PRELOGIN,
// https://learn.microsoft.com/openspecs/windows_protocols/ms-tds/60f56408-0188-4cd5-8b90-25c6f2423868,
// and the replies nmap's ms-sql-s fingerprints record): the options the
// client sent, in the spec's order, THREADID empty, INSTOPT 0x00, no TRACEID,
// FEDAUTHREQUIRED only from the Azure gateway and only when asked, header SPID 0
// and packet id 1. A client sending VERSION, ENCRYPTION, INSTOPT, THREADID, MARS
// and FEDAUTHREQUIRED (tedious) gets the gateway's 49-byte answer.
//
// API:
//   startTdsGateway(opts: TdsGatewayOptions) -> Promise<TdsGateway>
//   TdsGateway { endpoint, stats, close() }
//
// Like the real gateway it routes by name: the TLS SNI or, without SNI, the
// LOGIN7 ServerName must be `instanceName` (when set), else error 40532.
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { constants as cryptoConstants } from 'node:crypto';
import type { Endpoint } from '../net/endpoint.js';
import { decodeLogin7, FEATURE_FEDAUTH, type Login7 } from '../net/tds/login7.js';
import { encodeMessage, MessageReader, PacketType, TdsMessageDecoder, TdsProtocolError, type TdsMessage } from '../net/tds/packet.js';
import { decodePrelogin, Encryption, encodePreloginOptions, preloginOptions, PreloginToken, type Prelogin, type PreloginVersion } from '../net/tds/prelogin.js';
import { TdsTlsShim } from '../net/tds/tls-shim.js';
import {
  done, DONE_ATTN, DONE_COUNT, DONE_ERROR, DONE_FINAL, ENV_DATABASE, ENV_PACKET_SIZE, envChangeCollation, envChangeEnhancedRouting,
  envChangeRouting, envChangeString, errorToken, FEATURE_ENHANCED_ROUTING, featureExtAck, infoToken, intResult, loginAck, TDS_74,
} from './tds-tokens.js';

export type TdsBehaviour =
  | 'healthy'               // proxy: accepts 7.x (TLS in TDS) and strict, logs in
  | 'redirect'              // answers LOGIN7 with a routing ENVCHANGE to `redirectTo`
  | 'node'                  // a redirect target: accepts any routed name
  | 'login-failed'          // every login gets 18456
  | 'encryption-off'        // PRELOGIN answer ENCRYPT_NOT_SUP, login in clear text
  | 'strict-only'           // closes 7.x connections; only TDS 8 strict works
  | 'slow-prelogin'         // answers PRELOGIN after `slowMs`
  | 'reset-after-prelogin'  // answers PRELOGIN, then resets the connection
  | 'garbage'               // answers PRELOGIN like a web server would (not TDS)
  | 'absurd-length'         // answers with a packet header claiming 65,535 bytes, then nothing
  | 'silent';               // accepts TCP, never answers

export interface TdsGatewayOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly certPem: string;
  readonly keyPem: string;
  /** Intermediates (PEM), sent after the leaf. */
  readonly chainPem?: string;
  readonly behaviour?: TdsBehaviour;
  /** The FQDN this gateway serves; logins for other names get 40532. Left out, every name is served. */
  readonly instanceName?: string;
  /** SQL logins accepted (user -> password). Default { miprobe: 'miprobe' }. */
  readonly logins?: Readonly<Record<string, string>>;
  /** Access tokens accepted for FEDAUTH logins. */
  readonly tokens?: readonly string[];
  /** Routing target for 'redirect'; `server` may carry a `\instance` suffix, as drivers accept. */
  readonly redirectTo?: { readonly server: string; readonly port: number };
  /** The engine version in PRELOGIN and LOGINACK. Default MI_VERSION (12.0.2000.8, what a managed instance reports). */
  readonly version?: PreloginVersion;
  /** 'azure' (the gateway: answers FEDAUTHREQUIRED when asked) or 'sqlserver' (SQL Server does not support it). Default 'azure'. */
  readonly flavour?: 'azure' | 'sqlserver';
  /** PRELOGIN options left out of every answer even when the client sent them (e.g. MARS, as SQL Server 2000 did). */
  readonly omitOptions?: readonly number[];
  /** TDS 8 strict: the ENCRYPTION byte answered inside TLS. Default: the 7.x rule for a server with encryption on. */
  readonly strictEncryption?: number;
  /** 'redirect': send Enhanced Routing (type 21) even to clients that did not announce it (a misbehaving server). */
  readonly enhancedRoutingToAll?: boolean;
  /** Delay for 'slow-prelogin' (ms). Default 5000. */
  readonly slowMs?: number;
  /** Name reported in tokens (the engine's @@SERVERNAME). */
  readonly serverName?: string;
  /** Idle limit per connection (ms). Default 30000. */
  readonly idleMs?: number;
  /** Connections served at once; more are refused. Default 64. */
  readonly maxConnections?: number;
}

export interface TdsGatewayStats {
  connections: number;
  prelogins: number;
  tlsHandshakes: number;
  strictHandshakes: number;
  logins: number;
  loginFailures: number;
  redirects: number;
  batches: number;
  /** SNI names and LOGIN7 server names seen, for tests. */
  readonly names: string[];
}

export interface TdsGateway {
  readonly endpoint: Endpoint;
  readonly stats: TdsGatewayStats;
  close(): Promise<void>;
}

/**
 * What a managed instance reports: 12.0.2000.8 (Azure SQL's engine is version 12:
 * https://learn.microsoft.com/sql/t-sql/functions/serverproperty-transact-sql; nmap reads 12.00.2000 as its SQL Server 2014 build).
 */
export const MI_VERSION: PreloginVersion = { major: 12, minor: 0, build: 2000, subbuild: 8 };
/** B_FEDAUTHREQUIRED the simulated Azure gateway answers (0x00 or 0x01 are the spec's choices; the real value is unconfirmed). */
const GATEWAY_FEDAUTH_REQUIRED = 0x01;
/** The options a server answers when the client sent them, in the spec's order; TRACEID is never echoed. */
const ANSWERED_OPTIONS: readonly number[] = [
  PreloginToken.INSTOPT, PreloginToken.THREADID, PreloginToken.MARS, PreloginToken.FEDAUTHREQUIRED,
];

/** Passes a net.Socket through a JS Duplex so bytes already read can be replayed to TLS. */
function replayDuplex(socket: Socket, first: Buffer): Duplex {
  const d = new Duplex({
    read() { socket.resume(); },
    write(chunk: Buffer, _enc, cb) { socket.write(chunk, cb); },
    final(cb) { socket.end(); cb(); },
    destroy(err, cb) { socket.destroy(); cb(err); },
  });
  d.push(first);
  socket.on('data', (c: Buffer) => { if (!d.push(c)) socket.pause(); });
  socket.once('end', () => d.push(null));
  socket.once('error', (e) => d.destroy(e));
  socket.once('close', () => d.destroy());
  return d;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

function stripName(name: string): string {
  return name.split('\\')[0]?.replace(/\.$/, '').toLowerCase() ?? '';
}

/** Waits for a server-side TLS handshake; a failure destroys the TCP socket under it. */
function handshake(tlsSock: tls.TLSSocket, socket: Socket, signal: AbortSignal): Promise<void> {
  tlsSock.on('error', () => socket.destroy());
  return new Promise<void>((resolve, reject) => {
    tlsSock.once('secure', () => resolve());
    tlsSock.once('close', () => reject(new Error('closed during handshake')));
    signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });
}

export async function startTdsGateway(opts: TdsGatewayOptions): Promise<TdsGateway> {
  const behaviour = opts.behaviour ?? 'healthy';
  const logins = opts.logins ?? { miprobe: 'miprobe' };
  const serverName = opts.serverName ?? 'sim-mi';
  const idleMs = opts.idleMs ?? 30_000;
  const cert = opts.chainPem && !opts.chainPem.includes(opts.certPem.trim()) ? `${opts.certPem.trim()}\n${opts.chainPem}` : (opts.chainPem ?? opts.certPem);
  const base: tls.SecureContextOptions = { cert, key: opts.keyPem, minVersion: 'TLSv1.2', secureOptions: cryptoConstants.SSL_OP_NO_TICKET };
  const ctx7 = tls.createSecureContext({ ...base, maxVersion: 'TLSv1.2' });
  const ctxStrict = tls.createSecureContext(base);
  const stats: TdsGatewayStats = {
    connections: 0, prelogins: 0, tlsHandshakes: 0, strictHandshakes: 0, logins: 0, loginFailures: 0, redirects: 0, batches: 0, names: [],
  };
  const closing = new AbortController();
  const sockets = new Set<Socket>();

  const version = opts.version ?? MI_VERSION;
  const flavour = opts.flavour ?? 'azure';
  const omitted = new Set(opts.omitOptions ?? []);
  const reply = (stream: Duplex, type: number, payload: Buffer, packetSize: number, spid = 53): void => {
    if (!stream.destroyed && stream.writable) stream.write(encodeMessage(type, payload, { packetSize, spid }));
  };
  // Real servers answer PRELOGIN with SPID 0 in the header (nmap's fingerprints: 04 01 00 25 00 00 01 00).
  const replyPrelogin = (stream: Duplex, payload: Buffer): void => reply(stream, PacketType.TABULAR_RESULT, payload, 4096, 0);
  const ack = (): Buffer => loginAck('Microsoft SQL Server', TDS_74, [version.major, version.minor, version.build]);

  const handleSession = async (stream: Duplex, reader: MessageReader, sni: string | undefined, signal: AbortSignal): Promise<void> => {
    let packetSize = 4096;
    let loggedIn = false;
    let login: Login7 | undefined;
    for (;;) {
      const msg = await reader.read({ signal });
      if (msg.type === PacketType.LOGIN7 && !loggedIn) {
        login = decodeLogin7(msg.payload);
        stats.logins++;
        const requested = login.packetSize;
        packetSize = requested >= 512 && requested <= 32767 ? requested : 4096;
        const name = sni ?? login.serverName;
        stats.names.push(name);
        const fail = (number: number, state: number, cls: number, text: string): void => {
          stats.loginFailures++;
          reply(stream, PacketType.TABULAR_RESULT, Buffer.concat([errorToken(number, state, cls, text, serverName), done(DONE_ERROR)]), packetSize);
        };
        // A node takes any routed name; the encryption-off impostor is not a real gateway and does not route.
        if (behaviour !== 'node' && behaviour !== 'encryption-off' && opts.instanceName && stripName(name) !== stripName(opts.instanceName)) {
          fail(40532, 1, 20, `Cannot open server "${name}" requested by the login. The login failed.`);
          continue;
        }
        if (behaviour === 'redirect' && opts.redirectTo) {
          stats.redirects++;
          // Type 21 (with a database) only to clients that announced ENHANCEDROUTINGSUPPORT (MS-TDS 2.2.7.9); type 20 to the rest.
          const routing = login.features.includes(FEATURE_ENHANCED_ROUTING) || opts.enhancedRoutingToAll === true
            ? envChangeEnhancedRouting(opts.redirectTo.server, opts.redirectTo.port, login.database || 'master')
            : envChangeRouting(opts.redirectTo.server, opts.redirectTo.port);
          reply(stream, PacketType.TABULAR_RESULT, Buffer.concat([ack(), routing, done(DONE_FINAL)]), packetSize);
          stream.end();
          return;
        }
        const tokenOk = login.fedAuthToken !== undefined && (opts.tokens ?? []).includes(login.fedAuthToken);
        const passwordOk = login.fedAuthToken === undefined && Object.hasOwn(logins, login.userName) && logins[login.userName] === login.password;
        if (behaviour === 'login-failed' || !(tokenOk || passwordOk)) {
          const who = login.fedAuthToken !== undefined ? '<token-identified principal>' : login.userName;
          fail(18456, 1, 14, `Login failed for user '${who}'.`);
          continue;
        }
        loggedIn = true;
        const database = login.database || 'master';
        const tokens = [
          envChangeString(ENV_DATABASE, database, 'master'),
          infoToken(5701, `Changed database context to '${database}'.`, serverName),
          envChangeCollation(),
          ack(),
          envChangeString(ENV_PACKET_SIZE, String(packetSize), '4096'),
        ];
        if (login.fedAuthToken !== undefined && login.features.includes(FEATURE_FEDAUTH)) tokens.push(featureExtAck([FEATURE_FEDAUTH]));
        tokens.push(done(DONE_FINAL));
        reply(stream, PacketType.TABULAR_RESULT, Buffer.concat(tokens), packetSize);
      } else if (msg.type === PacketType.SQL_BATCH && loggedIn) {
        stats.batches++;
        reply(stream, PacketType.TABULAR_RESULT, answerBatch(msg, login), packetSize);
      } else if (msg.type === PacketType.RPC && loggedIn) {
        stats.batches++;
        reply(stream, PacketType.TABULAR_RESULT, answerRpc(msg), packetSize);
      } else if (msg.type === PacketType.ATTENTION) {
        reply(stream, PacketType.TABULAR_RESULT, done(DONE_ATTN), packetSize);
      } else {
        reply(stream, PacketType.TABULAR_RESULT, Buffer.concat([
          errorToken(4002, 1, 16, `The incoming tabular data stream (TDS) protocol stream is incorrect (packet type 0x${msg.type.toString(16)}).`, serverName),
          done(DONE_ERROR),
        ]), packetSize);
        if (!loggedIn) { stream.end(); return; }
      }
    }
  };

  const preloginAnswer = (request: Prelogin, strict: boolean): Buffer => {
    // MS-TDS 2.2.6.5, a server with encryption on: OFF -> REQ, ON/REQ -> ON (NOT_SUP: REQ, then the connection ends).
    const client = (request.encryption ?? Encryption.NOT_SUP) & 0x0f;
    let encryption: number = client === Encryption.ON || client === Encryption.REQ ? Encryption.ON : Encryption.REQ;
    if (behaviour === 'encryption-off') encryption = Encryption.NOT_SUP;
    // In TDS 8 the value is ignored (TLS is already in place); what a server answers varies, so scenarios can set it.
    if (strict && opts.strictEncryption !== undefined) encryption = opts.strictEncryption;
    const sent = new Set(request.tokens);
    const answer = preloginOptions({ version, encryption, instance: '', threadId: null, mars: false, fedAuthRequired: GATEWAY_FEDAUTH_REQUIRED })
      .filter(([token]) => {
        if (omitted.has(token)) return false;
        if (token === PreloginToken.VERSION || token === PreloginToken.ENCRYPTION) return true;
        if (token === PreloginToken.FEDAUTHREQUIRED && flavour !== 'azure') return false;
        return ANSWERED_OPTIONS.includes(token) && sent.has(token);
      });
    return encodePreloginOptions(answer);
  };

  const handleStrict = async (socket: Socket, first: Buffer, signal: AbortSignal): Promise<void> => {
    const tlsSock = new tls.TLSSocket(replayDuplex(socket, first), { isServer: true, secureContext: ctxStrict, ALPNProtocols: ['tds/8.0'] });
    await handshake(tlsSock, socket, signal);
    stats.strictHandshakes++;
    const sni = typeof tlsSock.servername === 'string' ? tlsSock.servername : undefined;
    const reader = new MessageReader(tlsSock, new TdsMessageDecoder({ maxMessageBytes: 256 * 1024 }));
    const pre = await reader.read({ signal });
    if (pre.type !== PacketType.PRELOGIN) throw new TdsProtocolError('TDS_MALFORMED', 'expected PRELOGIN');
    const p = decodePrelogin(pre.payload, 'client');
    stats.prelogins++;
    replyPrelogin(tlsSock, preloginAnswer(p, true));
    await handleSession(tlsSock, reader, sni, signal);
  };

  const handle7 = async (socket: Socket, first: Buffer, signal: AbortSignal): Promise<void> => {
    if (behaviour === 'strict-only') {
      socket.resetAndDestroy();
      return;
    }
    const reader = new MessageReader(socket, new TdsMessageDecoder({ maxMessageBytes: 64 * 1024 }));
    reader.feed(first);
    const pre = await reader.read({ signal });
    if (pre.type !== PacketType.PRELOGIN) throw new TdsProtocolError('TDS_MALFORMED', 'expected PRELOGIN');
    const p = decodePrelogin(pre.payload, 'client');
    stats.prelogins++;
    if (behaviour === 'slow-prelogin') await sleep(opts.slowMs ?? 5000, signal);
    if (behaviour === 'garbage') {
      // Another service on the port: what a web server says to bytes it does not understand.
      socket.write('HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html><body>400 Bad Request</body></html>\r\n');
      return;
    }
    if (behaviour === 'absurd-length') {
      socket.write(Buffer.from([0x04, 0x01, 0xff, 0xff, 0x00, 0x00, 0x01, 0x00]));
      return;
    }
    replyPrelogin(socket, preloginAnswer(p, false));
    if (behaviour === 'reset-after-prelogin') {
      socket.resetAndDestroy();
      return;
    }
    const clientEnc = (p.encryption ?? Encryption.NOT_SUP) & 0x0f;
    if (behaviour === 'encryption-off' || clientEnc === Encryption.NOT_SUP) {
      if (behaviour !== 'encryption-off') { socket.end(); return; }
      await handleSession(socket, reader, undefined, signal);
      return;
    }
    reader.detach();
    const shim = new TdsTlsShim(socket, 'server');
    const tlsSock = new tls.TLSSocket(shim, { isServer: true, secureContext: ctx7 });
    await handshake(tlsSock, socket, signal);
    stats.tlsHandshakes++;
    const sni = typeof tlsSock.servername === 'string' ? tlsSock.servername : undefined;
    await handleSession(tlsSock, new MessageReader(tlsSock, new TdsMessageDecoder({ maxMessageBytes: 256 * 1024 })), sni, signal);
  };

  const server: Server = createServer({ pauseOnConnect: false }, (socket) => {
    if (sockets.size >= (opts.maxConnections ?? 64)) {
      socket.destroy();
      return;
    }
    stats.connections++;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    const idle = AbortSignal.any([closing.signal, AbortSignal.timeout(idleMs)]);
    const onIdle = (): void => { socket.destroy(); };
    idle.addEventListener('abort', onIdle, { once: true });
    socket.once('close', () => {
      sockets.delete(socket);
      idle.removeEventListener('abort', onIdle);
    });
    if (behaviour === 'silent') return; // accepts TCP and never reads
    socket.once('data', (first: Buffer) => {
      const run = first[0] === 0x16 ? handleStrict(socket, first, idle) : first[0] === PacketType.PRELOGIN ? handle7(socket, first, idle) : Promise.resolve(socket.destroy());
      run.catch(() => { socket.destroy(); });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;

  return {
    endpoint: { host: opts.host, port },
    stats,
    close: async () => {
      closing.abort();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function skipHeaders(body: Buffer): Buffer {
  if (body.length < 4) return body;
  const headers = body.readUInt32LE(0);
  return headers >= 4 && headers <= body.length ? body.subarray(headers) : body;
}

function selectInt(text: string): number | undefined {
  const m = /^select\s+(-?\d{1,9})\s*;?$/i.exec(text.trim());
  return m ? Number(m[1]) : undefined;
}

/** Answers a SQL batch: `select <int>` gets one row; anything else (SET ... from drivers) a DONE. */
function answerBatch(msg: TdsMessage, login: Login7 | undefined): Buffer {
  const body = (login?.tdsVersion ?? TDS_74) >= 0x72000000 ? skipHeaders(msg.payload) : msg.payload;
  const value = selectInt(body.subarray(0, Math.min(body.length, 8192) & ~1).toString('utf16le'));
  if (value !== undefined) return Buffer.concat([intResult('', [value]), done(DONE_COUNT, 1)]);
  return done(DONE_FINAL);
}

/** Answers an RPC: sp_executesql (proc id 10) whose statement is `select <int>`; others get DONEPROC. */
function answerRpc(msg: TdsMessage): Buffer {
  const b = skipHeaders(msg.payload);
  const doneProc = done(DONE_FINAL, 0, 0xfe);
  try {
    if (b.length < 6 || b.readUInt16LE(0) !== 0xffff || b.readUInt16LE(2) !== 10) return doneProc;
    let at = 6;
    at += 1 + (b[at] as number) * 2 + 1; // param name, status flags
    if (b[at] !== 0xe7) return doneProc; // NVARCHAR
    const maxLen = b.readUInt16LE(at + 1);
    at += 1 + 2 + 5;
    let text: string;
    if (maxLen === 0xffff) {
      at += 8;
      const chunks: Buffer[] = [];
      for (let n = 0; n < 64; n++) {
        const len = b.readUInt32LE(at);
        at += 4;
        if (len === 0) break;
        chunks.push(b.subarray(at, at + len));
        at += len;
      }
      text = Buffer.concat(chunks).toString('utf16le');
    } else {
      const len = b.readUInt16LE(at);
      text = b.subarray(at + 2, at + 2 + len).toString('utf16le');
    }
    const value = selectInt(text);
    const status = Buffer.from([0x79, 0, 0, 0, 0]); // RETURNSTATUS 0
    if (value === undefined) return Buffer.concat([status, doneProc]);
    return Buffer.concat([intResult('', [value]), done(DONE_COUNT, 1, 0xff), status, doneProc]);
  } catch {
    return doneProc;
  }
}

