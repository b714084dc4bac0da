// TDS packet framing (MS-TDS 2.2.3): an 8-byte header (type, status, length
// big-endian, SPID, packet id, window) and messages that span packets until one
// carries the EOM status bit. Everything here is bounded: a packet length below
// 8 or above the packet-size limit, or a message above the message cap, is a
// protocol error, never an allocation.
//
// API:
//   encodeMessage(type, payload, opts?) -> Buffer        one message, split into packets
//   new TdsMessageDecoder(limits?)                        incremental decoder
//     .push(chunk): TdsMessage[]                          throws TdsProtocolError
//     .pending: number                                    bytes buffered
//   new MessageReader(stream, decoder?).read({signal}) -> Promise<TdsMessage>  with deadline
//   class TdsProtocolError { code: TdsFramingCode }
import type { Readable } from 'node:stream';

export const PacketType = {
  SQL_BATCH: 0x01,
  RPC: 0x03,
  TABULAR_RESULT: 0x04,
  ATTENTION: 0x06,
  BULK_LOAD: 0x07,
  FEDAUTH_TOKEN: 0x08,
  TRANSACTION_MANAGER: 0x0e,
  LOGIN7: 0x10,
  SSPI: 0x11,
  PRELOGIN: 0x12,
} as const;

export const Status = {
  NORMAL: 0x00,
  EOM: 0x01,
  IGNORE: 0x02,
  RESET_CONNECTION: 0x08,
} as const;

const KNOWN_TYPES: ReadonlySet<number> = new Set(Object.values(PacketType));
/** Status bits MS-TDS 2.2.3.1.2 defines (EOM, IGNORE, RESETCONNECTION, RESETCONNECTIONSKIPTRAN, and 0x04 for events). */
const KNOWN_STATUS_BITS = 0x1f;

export const HEADER_LENGTH = 8;
/** Default negotiated packet size before LOGIN7 (MS-TDS: 4096). */
export const DEFAULT_PACKET_SIZE = 4096;
/** Largest packet size a server may negotiate (MS-TDS 2.2.6.4: 32767). */
export const MAX_PACKET_SIZE = 32767;
/** Default cap on one reassembled message (PRELOGIN and login answers are a few KB). */
export const DEFAULT_MESSAGE_CAP = 1024 * 1024;

export type TdsFramingCode =
  | 'TDS_BAD_LENGTH'   // length field < 8 or > the packet-size limit
  | 'TDS_TOO_LARGE'    // reassembled message above the cap
  | 'TDS_BAD_TYPE'     // an unknown packet type, or the type changed in the middle of a message
  | 'TDS_MALFORMED'    // a payload that does not decode
  | 'TDS_CLOSED'       // the peer closed before a whole message arrived
  | 'TDS_TIMEOUT'      // no whole message before the deadline
  | 'TDS_ABORTED';     // the caller aborted

export class TdsProtocolError extends Error {
  constructor(readonly code: TdsFramingCode, message: string) {
    super(message);
  }
}

export interface TdsMessage {
  readonly type: number;
  /** Status byte of the last packet. */
  readonly status: number;
  readonly payload: Buffer;
  /** Number of packets it came in. */
  readonly packets: number;
}

export interface EncodeOptions {
  /** Packet size including the header; default 4096. */
  readonly packetSize?: number;
  readonly spid?: number;
  /** Extra status bits on every packet (RESET_CONNECTION ...); EOM is set on the last. */
  readonly status?: number;
}

/** Encodes one message as a run of packets (the last carries EOM). */
export function encodeMessage(type: number, payload: Buffer, opts: EncodeOptions = {}): Buffer {
  const packetSize = Math.min(Math.max(opts.packetSize ?? DEFAULT_PACKET_SIZE, 512), MAX_PACKET_SIZE);
  const room = packetSize - HEADER_LENGTH;
  const count = Math.max(1, Math.ceil(payload.length / room));
  const out = Buffer.alloc(payload.length + count * HEADER_LENGTH);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const body = payload.subarray(i * room, Math.min(payload.length, (i + 1) * room));
    out[at] = type;
    out[at + 1] = (opts.status ?? 0) | (i === count - 1 ? Status.EOM : 0);
    out.writeUInt16BE(body.length + HEADER_LENGTH, at + 2);
    out.writeUInt16BE(opts.spid ?? 0, at + 4);
    out[at + 6] = (i + 1) & 0xff;
    out[at + 7] = 0;
    body.copy(out, at + HEADER_LENGTH);
    at += HEADER_LENGTH + body.length;
  }
  return out;
}

export interface DecoderLimits {
  /** Largest packet accepted (header included); default 32767. */
  readonly maxPacketSize?: number;
  /** Largest reassembled message; default 1 MiB. */
  readonly maxMessageBytes?: number;
}

/** Incremental decoder: feed it bytes, get whole messages. */
export class TdsMessageDecoder {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private partType = -1;
  private partPackets = 0;
  private readonly maxPacket: number;
  private readonly maxMessage: number;

  constructor(limits: DecoderLimits = {}) {
    this.maxPacket = Math.min(limits.maxPacketSize ?? MAX_PACKET_SIZE, 65535);
    this.maxMessage = limits.maxMessageBytes ?? DEFAULT_MESSAGE_CAP;
  }

  /** Bytes received but not yet part of a returned message. */
  get pending(): number {
    return this.bufferedBytes + this.partBytes;
  }

  /** True when a message has started (some packets, no EOM yet) or header bytes are buffered. */
  get midMessage(): boolean {
    return this.pending > 0;
  }

  push(chunk: Buffer): TdsMessage[] {
    if (chunk.length > 0) {
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
    }
    const out: TdsMessage[] = [];
    for (;;) {
      if (this.bufferedBytes < HEADER_LENGTH) break;
      const head = this.peek(HEADER_LENGTH);
      // Judge the header as soon as it is here: a peer that is not speaking TDS (a web server, random
      // bytes) is recognised at once instead of after waiting for a body its "length" promised.
      const headType = head[0] ?? 0;
      if (!KNOWN_TYPES.has(headType) || ((head[1] ?? 0) & ~KNOWN_STATUS_BITS) !== 0) {
        throw new TdsProtocolError('TDS_BAD_TYPE', `not a TDS packet header (type 0x${hex(headType)}, status 0x${hex(head[1] ?? 0)})`);
      }
      const length = head.readUInt16BE(2);
      if (length < HEADER_LENGTH || length > this.maxPacket) {
        throw new TdsProtocolError('TDS_BAD_LENGTH',
          `packet length ${length} outside ${HEADER_LENGTH}..${this.maxPacket} (type 0x${hex(head[0] ?? 0)})`);
      }
      if (this.bufferedBytes < length) break;
      const packet = this.take(length);
      const type = packet[0] ?? 0;
      const status = packet[1] ?? 0;
      if (this.partPackets > 0 && type !== this.partType) {
        throw new TdsProtocolError('TDS_BAD_TYPE', `packet type 0x${hex(type)} inside a 0x${hex(this.partType)} message`);
      }
      const body = packet.subarray(HEADER_LENGTH);
      if (this.partBytes + body.length > this.maxMessage) {
        throw new TdsProtocolError('TDS_TOO_LARGE', `message larger than ${this.maxMessage} bytes`);
      }
      this.partType = type;
      this.parts.push(body);
      this.partBytes += body.length;
      this.partPackets++;
      if ((status & Status.EOM) !== 0) {
        out.push({ type, status, payload: Buffer.concat(this.parts, this.partBytes), packets: this.partPackets });
        this.parts = [];
        this.partBytes = 0;
        this.partPackets = 0;
        this.partType = -1;
      }
    }
    return out;
  }

  private peek(n: number): Buffer {
    const first = this.buffered[0];
    if (first && first.length >= n) return first.subarray(0, n);
    const joined = Buffer.concat(this.buffered, this.bufferedBytes);
    this.buffered = [joined];
    return joined.subarray(0, n);
  }

  private take(n: number): Buffer {
    const joined = this.buffered.length === 1 ? (this.buffered[0] as Buffer) : Buffer.concat(this.buffered, this.bufferedBytes);
    const taken = Buffer.from(joined.subarray(0, n));
    const rest = joined.subarray(n);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedBytes = rest.length;
    return taken;
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

export interface ReadMessageOptions {
  readonly signal: AbortSignal;
  /** Whether an abort by `signal` is the deadline (TDS_TIMEOUT) or the caller (TDS_ABORTED). */
  readonly callerSignal?: AbortSignal | undefined;
}

/**
 * Reads the next whole message from a stream through `decoder`. Messages that
 * arrive together are queued on the decoder's `queue` (see MessageReader).
 * Rejects with TdsProtocolError (never anything else).
 */
export class MessageReader {
  private readonly queue: TdsMessage[] = [];
  private failure: TdsProtocolError | undefined;
  private wake: (() => void) | undefined;
  private ended = false;

  constructor(private readonly source: Readable, readonly decoder: TdsMessageDecoder = new TdsMessageDecoder()) {
    source.on('data', this.onData);
    source.once('end', this.onEnd);
    source.once('close', this.onEnd);
    source.on('error', this.onError);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.failure) return;
    try {
      this.queue.push(...this.decoder.push(chunk));
    } catch (err) {
      this.failure = err instanceof TdsProtocolError ? err : new TdsProtocolError('TDS_MALFORMED', String(err));
      this.source.pause();
    }
    this.wake?.();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.wake?.();
  };

  private readonly onError = (err: NodeJS.ErrnoException): void => {
    this.ended = true;
    this.closeReason = err.code ? `${err.code}: ${err.message}` : err.message;
    this.errorCode = err.code;
    this.wake?.();
  };

  closeReason: string | undefined;
  /** errno code of a socket error (ECONNRESET ...), when the source failed. */
  errorCode: string | undefined;

  /** Feeds bytes read elsewhere (e.g. a first chunk used to sniff the protocol). */
  feed(chunk: Buffer): void {
    this.onData(chunk);
  }

  /** Stops listening to the source (so another reader, e.g. TLS, can take over). */
  detach(): void {
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
    this.source.off('close', this.onEnd);
    this.source.off('error', this.onError);
  }

  async read(opts: ReadMessageOptions): Promise<TdsMessage> {
    for (;;) {
      const next = this.queue.shift();
      if (next) return next;
      if (this.failure) throw this.failure;
      if (this.ended) {
        const partial = this.decoder.pending > 0 ? ` after ${this.decoder.pending} bytes of an incomplete message` : '';
        throw new TdsProtocolError('TDS_CLOSED', `the server closed the connection${partial}${this.closeReason ? ` (${this.closeReason})` : ''}`);
      }
      if (opts.signal.aborted) throw abortError(opts, this.decoder.pending);
      await new Promise<void>((resolve) => {
        const onAbort = (): void => done();
        const done = (): void => {
          this.wake = undefined;
          opts.signal.removeEventListener('abort', onAbort);
          resolve();
        };
        this.wake = done;
        opts.signal.addEventListener('abort', onAbort, { once: true });
      });
      if (opts.signal.aborted && this.queue.length === 0 && !this.failure) throw abortError(opts, this.decoder.pending);
    }
  }
}

function abortError(opts: ReadMessageOptions, pending: number): TdsProtocolError {
  if (opts.callerSignal?.aborted) return new TdsProtocolError('TDS_ABORTED', 'aborted');
  const partial = pending > 0 ? ` (${pending} bytes of an incomplete message received)` : '';
  return new TdsProtocolError('TDS_TIMEOUT', `no complete answer before the deadline${partial}`);
}
