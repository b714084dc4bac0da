// TLS inside TDS 7.x (MS-TDS 3.3.5.3 / 3.2.5.2): during the handshake every TLS
// record travels as the payload of PRELOGIN (0x12) packets; once the handshake
// is over the TLS records travel raw on the TCP connection. This Duplex sits
// between a TLSSocket (tls.connect({socket: shim}) or new TLSSocket(shim,
// {isServer: true})) and the TCP socket, the way tedious does it.
//
//   Outgoing: while `wrapping`, TLS output written in one turn of the event loop
//   goes out as one PRELOGIN message (one flight = one message, which tedious
//   relies on). A client stops wrapping at secureConnect (call `stopWrapping()`);
//   a server stops wrapping when the first raw TLS record arrives from the client
//   (a TLS 1.2 server writes nothing unprompted after its Finished).
//   Incoming: each unit is recognised by its first byte: 0x14..0x17 is a raw TLS
//   record (5-byte header), anything else a TDS packet (8-byte header) whose
//   payload is passed on. Both lengths are bounded; a bad length destroys the
//   shim with a TdsProtocolError.
//
// API: new TdsTlsShim(socket, role, { packetSize? }); shim.stopWrapping(); shim.wrapping
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { encodeMessage, HEADER_LENGTH, MAX_PACKET_SIZE, PacketType, TdsProtocolError } from './packet.js';

const TLS_MAX_RECORD = 16384 + 2048 + 5;

export interface ShimOptions {
  readonly packetSize?: number;
}

export class TdsTlsShim extends Duplex {
  private wrapOn = true;
  private pending: Buffer[] = [];
  private flushScheduled = false;
  private inbuf: Buffer = Buffer.alloc(0);
  /** Handshake bytes received wrapped in TDS packets. */
  wrappedBytesIn = 0;

  constructor(private readonly socket: Socket, private readonly role: 'client' | 'server', private readonly opts: ShimOptions = {}) {
    super();
    socket.on('data', this.onData);
    socket.once('end', this.onEnd);
    socket.once('error', this.onError);
    socket.once('close', this.onClose);
  }

  get wrapping(): boolean {
    return this.wrapOn;
  }

  /** Client: call at secureConnect; from then on TLS records go raw. */
  stopWrapping(): void {
    this.flush();
    this.wrapOn = false;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.inbuf = this.inbuf.length === 0 ? chunk : Buffer.concat([this.inbuf, chunk]);
    try {
      for (;;) {
        if (this.inbuf.length < 5) break;
        const first = this.inbuf[0] as number;
        if (first >= 0x14 && first <= 0x17) {
          const len = this.inbuf.readUInt16BE(3) + 5;
          if (len > TLS_MAX_RECORD) throw new TdsProtocolError('TDS_BAD_LENGTH', `TLS record of ${len} bytes`);
          if (this.inbuf.length < len) break;
          const record = this.inbuf.subarray(0, len);
          this.inbuf = this.inbuf.subarray(len);
          if (this.role === 'server' && this.wrapOn) {
            this.flush();
            this.wrapOn = false;
          }
          this.push(Buffer.from(record));
        } else {
          if (this.inbuf.length < HEADER_LENGTH) break;
          const len = this.inbuf.readUInt16BE(2);
          if (len < HEADER_LENGTH || len > MAX_PACKET_SIZE) {
            throw new TdsProtocolError('TDS_BAD_LENGTH', `packet length ${len} during the TLS handshake`);
          }
          if (this.inbuf.length < len) break;
          const payload = this.inbuf.subarray(HEADER_LENGTH, len);
          this.inbuf = this.inbuf.subarray(len);
          this.wrappedBytesIn += payload.length;
          if (payload.length > 0) this.push(Buffer.from(payload));
        }
      }
    } catch (err) {
      this.inbuf = Buffer.alloc(0);
      this.socket.off('data', this.onData);
      this.destroy(err as Error);
    }
  };

  private readonly onEnd = (): void => {
    this.push(null);
  };

  private readonly onError = (err: Error): void => {
    this.destroy(err);
  };

  private readonly onClose = (): void => {
    if (!this.destroyed) this.push(null);
  };

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.socket.destroyed) {
      cb(new Error('socket closed'));
      return;
    }
    if (!this.wrapOn) {
      this.socket.write(chunk, cb);
      return;
    }
    this.pending.push(chunk);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    cb();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.socket.destroyed) {
      this.pending = [];
      return;
    }
    const payload = Buffer.concat(this.pending);
    this.pending = [];
    this.socket.write(encodeMessage(PacketType.PRELOGIN, payload, { packetSize: this.opts.packetSize ?? 4096 }));
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.flush();
    this.socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onClose);
    this.socket.destroy();
    cb(err);
  }
}
