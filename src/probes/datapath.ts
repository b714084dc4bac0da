// The data-path probe: TCP to the gateway, PRELOGIN, TLS (inside TDS 7.x, or
// TDS 8.0 strict first). No login, so it can repeat every few seconds without
// tripping failed-login protection. Each stage has its own result; a stage is
// absent when an earlier one failed. Results are JSON-serialisable (the chain
// as PEM strings).
//
// API:
//   probeDataPath: Probe<DataPathInput, DataPathResult>     never throws
//   types TcpStage, PreloginStage, TlsStage, StrictCheck, DataPathResult
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { secondsSince, startDeadline } from '../net/deadline.js';
import type { AddressGuard } from '../net/guard.js';
import { tcpConnect, type TcpResult } from '../net/tcp.js';
import { GATEWAY_PORT } from '../requirements/platform.js';
import { encodeMessage, MessageReader, PacketType, TdsMessageDecoder, TdsProtocolError, type TdsFramingCode } from '../net/tds/packet.js';
import { randomBytes } from 'node:crypto';
import {
  decodePrelogin, Encryption, encodePrelogin, encryptionName, formatVersion, type EncryptionName, type PreloginOption,
} from '../net/tds/prelogin.js';
import { startTlsInTds, startTlsStrict, TlsError, type TlsErrorCode, type TlsInfo } from '../net/tds/tls.js';
import type { Probe } from './context.js';

export type TcpStage = TcpResult;

export type PreloginErrorCode = Exclude<TdsFramingCode, 'TDS_BAD_TYPE'> | 'TDS_RESET' | 'TDS_UNEXPECTED_TYPE' | 'TDS_SKIPPED';

export type PreloginStage =
  | {
    readonly ok: true;
    readonly seconds: number;
    /** Server version from the VERSION option, e.g. 16.0.4135.0. */
    readonly version: string;
    readonly encryption: EncryptionName;
    readonly encryptionByte: number;
    readonly instance?: string;
    /** THREADID as sent; null when the option came empty (what real servers send). */
    readonly threadId?: number | null;
    readonly mars?: boolean;
    /** B_FEDAUTHREQUIRED as the server sent it (only when the client sent the option). */
    readonly fedAuthRequired?: number;
    readonly nonce?: boolean;
    /** The encryption the client asked for. */
    readonly requested: EncryptionName;
    /** True when the exchange ran inside TLS (strict). */
    readonly insideTls: boolean;
    /** The option table as received, raw (unknown options included). */
    readonly options: readonly PreloginOption[];
    /** Deviations from the spec the decoder tolerated. */
    readonly anomalies: readonly string[];
    /** Size of the whole answer (header included), e.g. 49 for the Azure gateway. */
    readonly bytes: number;
  }
  | {
    readonly ok: false;
    readonly seconds: number;
    readonly code: PreloginErrorCode;
    readonly message: string;
    /** Bytes received before the failure. */
    readonly bytesReceived: number;
  };

export type TlsStageCode = TlsErrorCode | 'TLS_NOT_OFFERED' | 'TLS_UNTRUSTED' | 'TLS_EXPIRED' | 'TLS_NOT_YET_VALID' | 'TLS_HOSTNAME_MISMATCH';

export type TlsStage =
  | ({ readonly ok: true; readonly seconds: number; readonly mode: 'tds7' | 'strict' } & TlsInfo)
  | {
    readonly ok: false;
    readonly seconds: number;
    readonly mode: 'tds7' | 'strict';
    readonly code: TlsStageCode;
    readonly message: string;
    /** Present when the handshake completed but validation failed. */
    readonly info?: TlsInfo;
  };

/** After a 7.x PRELOGIN failure, whether a TDS 8 strict handshake works (a strict-only server). */
export interface StrictCheck {
  readonly ok: boolean;
  readonly seconds: number;
  readonly alpn?: string;
  readonly message: string;
}

export interface DataPathResult {
  /** The name the client used (SNI, host-name check). */
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly strict: boolean;
  readonly ok: boolean;
  readonly seconds: number;
  readonly tcp: TcpStage;
  readonly prelogin?: PreloginStage;
  readonly tls?: TlsStage;
  readonly strictCheck?: StrictCheck;
}

export interface DataPathInput {
  /** The name the client used (FQDN); SNI and the certificate check use it. */
  readonly host: string;
  /** The resolved address to connect to. */
  readonly address: string;
  readonly port?: number;
  /** TDS 8.0: TLS first with ALPN tds/8.0, then PRELOGIN inside TLS. */
  readonly strict?: boolean;
  /** Extra trusted roots (PEM), added to the system store (--ca-file). */
  readonly ca?: string | readonly string[] | undefined;
  /** Try TDS 8 strict when a 7.x PRELOGIN is closed/reset. Default true. */
  readonly strictFallback?: boolean;
}

/** The input with what the context gives: the guard, the whole probe's deadline, cancellation. */
type DataPathOptions = DataPathInput & { readonly guard: AddressGuard; readonly timeoutMs: number; readonly signal?: AbortSignal | undefined };

const CLIENT_VERSION = { major: 0, minor: 1, build: 0, subbuild: 0 };

/**
 * The options a real driver sends (tedious 19: VERSION, ENCRYPTION ON, INSTOPT, THREADID, MARS off, a random
 * TRACEID and FEDAUTHREQUIRED, which a client MUST send as 0x01). Inside TDS 8 the ENCRYPTION value is ignored.
 */
function preloginRequest(): Buffer {
  return encodeMessage(PacketType.PRELOGIN, encodePrelogin({
    version: CLIENT_VERSION,
    encryption: Encryption.ON,
    instance: '',
    threadId: process.pid,
    mars: false,
    traceId: randomBytes(36).toString('hex'),
    fedAuthRequired: 0x01,
  }));
}

async function exchangePrelogin(stream: Socket | TLSSocket, strict: boolean, signal: AbortSignal, callerSignal: AbortSignal | undefined)
  : Promise<{ stage: PreloginStage; reader: MessageReader }> {
  // Bounded: one packet of at most 32767 bytes, a PRELOGIN answer of at most 4 KB.
  const reader = new MessageReader(stream, new TdsMessageDecoder({ maxPacketSize: 32767, maxMessageBytes: 8192 }));
  const request = preloginRequest();
  let received = 0;
  let lastDataAt = 0;
  // The answer's time is taken at the socket event that brought its last bytes, not when our code got to it.
  const count = (c: Buffer): void => {
    received += c.length;
    lastDataAt = performance.now();
  };
  stream.on('data', count);
  const started = performance.now();
  try {
    stream.write(request);
    const msg = await reader.read({ signal, callerSignal });
    const seconds = Math.round((lastDataAt - started) * 1000) / 1e6;
    if (msg.type !== PacketType.TABULAR_RESULT && msg.type !== PacketType.PRELOGIN) {
      return { reader, stage: { ok: false, seconds, code: 'TDS_UNEXPECTED_TYPE', bytesReceived: received,
        message: `the answer to PRELOGIN is a packet of type 0x${msg.type.toString(16)}, not a PRELOGIN response (0x04)` } };
    }
    const p = decodePrelogin(msg.payload, 'server');
    const version = p.version ?? CLIENT_VERSION;
    const stage: PreloginStage = {
      ok: true,
      seconds,
      version: formatVersion(version),
      encryption: encryptionName(p.encryption ?? Encryption.NOT_SUP),
      encryptionByte: p.encryption ?? -1,
      requested: 'ENCRYPT_ON',
      insideTls: strict,
      options: p.options,
      anomalies: p.anomalies,
      bytes: msg.payload.length + 8 * msg.packets,
      ...(p.instance !== undefined ? { instance: p.instance } : {}),
      ...(p.threadId !== undefined ? { threadId: p.threadId } : {}),
      ...(p.mars !== undefined ? { mars: p.mars } : {}),
      ...(p.fedAuthRequired !== undefined ? { fedAuthRequired: p.fedAuthRequired } : {}),
      ...(p.nonce !== undefined ? { nonce: true } : {}),
    };
    return { reader, stage };
  } catch (err) {
    let code: PreloginErrorCode = 'TDS_MALFORMED';
    let message = String(err);
    if (err instanceof TdsProtocolError) {
      code = err.code === 'TDS_BAD_TYPE' ? 'TDS_MALFORMED' : err.code;
      message = err.message;
      if (code === 'TDS_CLOSED' && reader.errorCode === 'ECONNRESET') code = 'TDS_RESET';
    }
    return { reader, stage: { ok: false, seconds: secondsSince(started), code, message, bytesReceived: received } };
  } finally {
    stream.off('data', count);
  }
}

/**
 * Which certificate of the chain is out of date, and since or until when: OpenSSL's
 * CERT_HAS_EXPIRED may be about an intermediate while the leaf is fine.
 */
function outOfDate(info: TlsInfo, what: 'expired' | 'not yet valid'): string {
  const now = Date.now();
  const index = info.chain.findIndex((c) => (what === 'expired' ? Date.parse(c.validTo) < now : Date.parse(c.validFrom) > now));
  const cert = info.chain[index >= 0 ? index : 0];
  const role = index <= 0 ? 'the server certificate' : `the ${index === info.chain.length - 1 && cert?.selfSigned ? 'root' : 'intermediate'} certificate "${cert?.subject ?? '?'}"`;
  return what === 'expired' ? `${role} expired on ${cert?.validTo ?? '?'}` : `${role} is valid only from ${cert?.validFrom ?? '?'}`;
}

function tlsStageOf(info: TlsInfo, seconds: number, mode: 'tds7' | 'strict'): TlsStage {
  if (!info.trusted || !info.hostnameMatch || info.expired || info.notYetValid) {
    let code: TlsStageCode = 'TLS_UNTRUSTED';
    let message = `the certificate chain is not trusted (${info.trustError ?? 'unknown reason'})`;
    if (info.expired || info.trustError === 'CERT_HAS_EXPIRED') {
      code = 'TLS_EXPIRED';
      message = outOfDate(info, 'expired');
    } else if (info.notYetValid || info.trustError === 'CERT_NOT_YET_VALID') {
      code = 'TLS_NOT_YET_VALID';
      message = outOfDate(info, 'not yet valid');
    } else if (info.trusted && !info.hostnameMatch) {
      code = 'TLS_HOSTNAME_MISMATCH';
      message = info.hostnameError ?? `the certificate does not cover ${info.servername}`;
    }
    return { ok: false, seconds, mode, code, message, info };
  }
  return { ok: true, seconds, mode, ...info };
}

async function tlsStage(socket: Socket, opts: DataPathOptions, mode: 'tds7' | 'strict', signal: AbortSignal): Promise<{ stage: TlsStage; socket?: TLSSocket }> {
  const started = performance.now();
  const startOpts = { servername: opts.host, ca: opts.ca, signal, callerSignal: opts.signal };
  try {
    const session = mode === 'strict' ? await startTlsStrict(socket, startOpts) : await startTlsInTds(socket, startOpts);
    return { stage: tlsStageOf(session.info, secondsSince(started), mode), socket: session.socket };
  } catch (err) {
    const code: TlsStageCode = err instanceof TlsError ? err.code : 'TLS_HANDSHAKE_FAILED';
    return { stage: { ok: false, seconds: secondsSince(started), mode, code, message: err instanceof Error ? err.message : String(err) } };
  }
}

async function strictCheck(opts: DataPathOptions, port: number, timeoutMs: number): Promise<StrictCheck> {
  const started = performance.now();
  const tcp = await tcpConnect(opts.address, port, { guard: opts.guard, timeoutMs, signal: opts.signal, keep: true });
  if (!tcp.ok || !tcp.socket) return { ok: false, seconds: secondsSince(started), message: `TCP: ${tcp.ok ? 'no socket' : tcp.message}` };
  const deadline = startDeadline({ timeoutMs, signal: opts.signal });
  const { stage, socket } = await tlsStage(tcp.socket, opts, 'strict', deadline.signal);
  deadline.done();
  socket?.destroy();
  tcp.socket.destroy();
  const info = stage.ok ? stage : stage.info;
  const completed = stage.ok || stage.info !== undefined;
  return {
    ok: completed,
    seconds: secondsSince(started),
    ...(info?.alpn ? { alpn: info.alpn } : {}),
    message: completed ? `a TDS 8 strict TLS handshake succeeded (${info?.protocol ?? '?'}, ALPN ${info?.alpn ?? 'none'})` : stage.message,
  };
}

/** Probes TCP, PRELOGIN and TLS to one address; never throws. */
export const probeDataPath: Probe<DataPathInput, DataPathResult> = (input, ctx) =>
  dataPath({ ...input, guard: ctx.guard, timeoutMs: ctx.timeoutMs, signal: ctx.signal });

async function dataPath(opts: DataPathOptions): Promise<DataPathResult> {
  const started = performance.now();
  const port = opts.port ?? GATEWAY_PORT;
  const strict = opts.strict === true;
  const deadline = startDeadline({ timeoutMs: opts.timeoutMs, signal: opts.signal });
  const { signal } = deadline;
  const head = { host: opts.host, address: opts.address, port, strict };
  const tcpFull = await tcpConnect(opts.address, port, { guard: opts.guard, timeoutMs: opts.timeoutMs, signal: opts.signal, keep: true });
  const { socket: tcpSocket, ...tcp } = tcpFull;
  const finish = (rest: Partial<Pick<DataPathResult, 'prelogin' | 'tls' | 'strictCheck'>>, ok: boolean): DataPathResult =>
    ({ ...head, ok, seconds: secondsSince(started), tcp, ...rest });
  if (!tcp.ok || !tcpSocket) {
    deadline.done();
    return finish({}, false);
  }
  tcpSocket.on('error', () => undefined);
  let tlsSocket: TLSSocket | undefined;
  try {
    if (strict) {
      const t = await tlsStage(tcpSocket, opts, 'strict', signal);
      tlsSocket = t.socket;
      if (!t.socket || (!t.stage.ok && !t.stage.info)) return finish({ tls: t.stage }, false);
      const { stage } = await exchangePrelogin(t.socket, true, signal, opts.signal);
      return finish({ tls: t.stage, prelogin: stage }, t.stage.ok && stage.ok);
    }
    const { stage: prelogin, reader } = await exchangePrelogin(tcpSocket, false, signal, opts.signal);
    reader.detach();
    if (!prelogin.ok) {
      tcpSocket.destroy();
      const remaining = Math.floor(opts.timeoutMs - (performance.now() - started));
      if ((opts.strictFallback ?? true) && (prelogin.code === 'TDS_CLOSED' || prelogin.code === 'TDS_RESET') && remaining > 50) {
        return finish({ prelogin, strictCheck: await strictCheck(opts, port, remaining) }, false);
      }
      return finish({ prelogin }, false);
    }
    if (prelogin.encryption !== 'ENCRYPT_ON' && prelogin.encryption !== 'ENCRYPT_REQ') {
      const tls: TlsStage = { ok: false, seconds: 0, mode: 'tds7', code: 'TLS_NOT_OFFERED',
        message: `the server answered ${prelogin.encryption} to ENCRYPT_ON: a client would log in without TLS (or, if it insists on encryption, fail)` };
      return finish({ prelogin, tls }, false);
    }
    const t = await tlsStage(tcpSocket, opts, 'tds7', signal);
    tlsSocket = t.socket;
    return finish({ prelogin, tls: t.stage }, t.stage.ok);
  } finally {
    deadline.done();
    tlsSocket?.destroy();
    tcpSocket.destroy();
  }
}
