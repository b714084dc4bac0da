// One DNS question to one server: UDP with EDNS0 first, TCP when the UDP
// answer is truncated. Built on dns-packet for every byte of DNS encoding.
//
// API (stable):
//   queryServer(name, type, server, opts: QueryOptions): Promise<QueryResult>
//     Never throws. `ok` is true exactly for rcode NOERROR (answers may be empty: NODATA
//     is for the caller to decide). `answers` holds the class-IN A/AAAA/CNAME records of the
//     answer section (names lower-cased, no trailing dot), also on NXDOMAIN, so a dangling
//     CNAME chain stays visible.
//
// Acceptance rules for a UDP datagram (anything else is ignored and we keep waiting):
//   - it comes from server.host:server.port (the socket is connected, so the kernel already
//     drops others; the source is checked again anyway);
//   - its first two bytes equal the query id. A datagram whose id matches but that does not
//     decode is DNS_MALFORMED at once (it answers our query, and it is broken). A datagram
//     that is too short to carry an id, or carries another id, is ignored: it is not ours,
//     and treating it as fatal would let any off-path sender kill a query;
//   - QR is set and the question section repeats our question (name case-insensitively,
//     type, class IN). A response without a question is accepted only for a non-zero rcode.
// Over TCP the connection is ours alone, so an id or question mismatch is DNS_MALFORMED.
//
// Sockets: concurrent UDP queries to one server share a connected socket (a "channel",
// demultiplexed by random id, like c-ares); a channel is replaced after 256 queries (a new
// random source port) and closed when idle for 1 s. TCP uses one connection per query, reads
// at most 2 + 65535 bytes of it, and is used only after TC=1 (or with tcpOnly).
// Timing: opts.timeoutMs bounds the whole call (UDP retransmissions and the TCP fallback
// included); each UDP transmission waits attemptTimeoutMs; opts.signal aborts (DNS_ABORTED).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { randomFillSync } from 'node:crypto';
import { isIP, Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { ipToBigInt } from '../address.js';
import { onAbort, secondsSince, type NetOptions } from '../deadline.js';
import { formatEndpoint, type Endpoint } from '../endpoint.js';
import type { AddressGuard } from '../guard.js';
import type { DnsError, DnsErrorCode, DnsHop, DnsRecordType } from './types.js';

export interface QueryOptions extends NetOptions {
  readonly guard: AddressGuard;
  /** UDP retransmissions after the first transmission. Default 1. */
  readonly retries?: number;
  /** Milliseconds to wait for an answer to each UDP transmission. Default timeoutMs / (retries + 1). */
  readonly attemptTimeoutMs?: number;
  /** Ask over TCP straight away (no UDP). Default false. */
  readonly tcpOnly?: boolean;
  /** Set the RD bit. Default true. */
  readonly recursionDesired?: boolean;
}

export interface QueryResult {
  readonly ok: boolean;
  /** ip:port of the server asked. */
  readonly server: string;
  readonly transport: 'udp' | 'tcp';
  /** DNS messages sent (UDP transmissions plus the TCP query, if any). */
  readonly queries: number;
  readonly seconds: number;
  /** The response code (extended rcode included); undefined when no response was accepted. */
  readonly rcode?: number;
  /** Class-IN A, AAAA and CNAME records of the answer section. */
  readonly answers: readonly DnsHop[];
  /** The AA bit of the accepted response. */
  readonly authoritative: boolean;
  /** The UDP answer had TC set (and TCP was then used). */
  readonly truncated: boolean;
  /**
   * The authority section carries an SOA: an explicit negative answer (RFC 2308), so a chain
   * that ends without records here is NODATA, not a partial chain to follow.
   */
  readonly negativeSoa: boolean;
  /** Present exactly when ok is false. */
  readonly error?: DnsError;
}

/** EDNS0 payload size advertised (the DNS Flag Day 2020 value). */
export const EDNS_UDP_PAYLOAD = 1232;
/** Largest DNS message (the TCP length prefix is 16 bits). */
export const MAX_DNS_MESSAGE = 65535;
const TYPE_CODES: Readonly<Record<DnsRecordType, number>> = { A: 1, AAAA: 28, CNAME: 5 };

export function rcodeToError(rcode: number): DnsErrorCode | undefined {
  switch (rcode) {
    case 0: return undefined;
    case 1: return 'DNS_FORMERR';
    case 2: return 'DNS_SERVFAIL';
    case 3: return 'DNS_NXDOMAIN';
    case 4: return 'DNS_NOTIMP';
    case 5: return 'DNS_REFUSED';
    default: return 'DNS_RCODE';
  }
}

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET',
  'NXRRSET', 'NOTAUTH', 'NOTZONE'];
export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

// Query ids come from a pool of CSPRNG bytes, refilled when used up.
const idPool = Buffer.alloc(4096);
let idPos = idPool.length;
export function randomId(): number {
  if (idPos + 2 > idPool.length) {
    randomFillSync(idPool);
    idPos = 0;
  }
  const id = idPool.readUInt16BE(idPos);
  idPos += 2;
  return id;
}

/** Lower-cases and strips one trailing dot. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.length > 1 && lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const x = ipToBigInt(a);
  const y = ipToBigInt(b);
  return x !== undefined && y !== undefined && x.family === y.family && x.value === y.value;
}

type Outcome =
  | { kind: 'packet'; packet: dnsPacket.DecodedPacket; sent: number }
  | { kind: 'error'; code: DnsErrorCode; message: string; sent: number };

interface Question {
  readonly name: string; // normalized
  readonly type: DnsRecordType;
  readonly id: number;
}

/** Checks that a decoded response answers `q`; returns a reason when it does not. */
function mismatch(packet: dnsPacket.DecodedPacket, name: string, type: DnsRecordType): string | undefined {
  if (packet.type !== 'response') return 'QR bit not set';
  const questions = packet.questions ?? [];
  if (questions.length === 0) {
    return (packet.flags ?? 0) & 0xf ? undefined : 'no question section in a NOERROR response';
  }
  if (questions.length !== 1) return `${questions.length} questions`;
  const got = questions[0];
  if (!got) return 'no question';
  if (got.name !== name && normalizeName(got.name) !== name) return `question name ${got.name} instead of ${name}`;
  if (got.type !== type) return `question type ${got.type} instead of ${type}`;
  if (got.class !== undefined && got.class !== 'IN') return `question class ${got.class}`;
  return undefined;
}

function rcodeOf(packet: dnsPacket.DecodedPacket): number {
  let rcode = (packet.flags ?? 0) & 0xf;
  for (const add of packet.additionals ?? []) {
    if (add.type === 'OPT') rcode |= (add.extendedRcode & 0xff) << 4;
  }
  return rcode;
}

function answersOf(packet: dnsPacket.DecodedPacket): DnsHop[] {
  const out: DnsHop[] = [];
  for (const rr of packet.answers ?? []) {
    if (rr.type !== 'A' && rr.type !== 'AAAA' && rr.type !== 'CNAME') continue;
    if (rr.class !== undefined && rr.class !== 'IN') continue;
    if (typeof rr.data !== 'string') continue;
    const data = rr.type === 'CNAME' ? normalizeName(rr.data) : rr.data;
    out.push({ name: normalizeName(rr.name), type: rr.type, data, ttl: rr.ttl ?? 0 });
  }
  return out;
}

/** What an answer says, as queryServer reports it. */
export interface AnswerView {
  readonly rcode: number;
  readonly answers: readonly DnsHop[];
  readonly authoritative: boolean;
  readonly truncated: boolean;
  readonly negativeSoa: boolean;
}

function viewOf(packet: dnsPacket.DecodedPacket): AnswerView {
  return { rcode: rcodeOf(packet), answers: answersOf(packet), authoritative: packet.flag_aa, truncated: packet.flag_tc,
    negativeSoa: (packet.authorities ?? []).some((rr) => rr.type === 'SOA') };
}

/**
 * Reads one DNS message received for the question (name, type): its view, or why it is not an
 * answer to it ('malformed': undecodable; 'mismatch': another question). The same steps the UDP
 * and TCP exchanges take, for tests and the fuzz suite. Never throws.
 */
export function readAnswer(msg: Buffer, name: string, type: DnsRecordType):
  { kind: 'answer'; view: AnswerView } | { kind: 'malformed' | 'mismatch'; message: string } {
  const packet = decode(msg);
  if (typeof packet === 'string') return { kind: 'malformed', message: packet };
  const why = mismatch(packet, normalizeName(name), type);
  if (why !== undefined) return { kind: 'mismatch', message: why };
  return { kind: 'answer', view: viewOf(packet) };
}

/**
 * DNS over TCP framing (RFC 1035 4.2.2): a 2-byte length, then the message. Feed it the bytes as
 * they arrive; it holds at most one message (2 + 65535 bytes) plus one chunk.
 */
export class DnsTcpFramer {
  private chunks: Buffer[] = [];
  private received = 0;
  private expected = -1;

  /** The message once whole, an error for a length below a DNS header, undefined while incomplete. */
  push(chunk: Buffer): { message: Buffer } | { error: string } | undefined {
    this.chunks.push(chunk);
    this.received += chunk.length;
    if (this.expected < 0 && this.received >= 2) {
      const head = this.chunks.length === 1 ? this.chunks[0] ?? chunk : Buffer.concat(this.chunks);
      this.expected = head.readUInt16BE(0);
      if (this.expected < 12) return { error: `framed a ${this.expected}-byte message` };
    }
    // At most 2 + 65535 bytes are ever needed; `received` can exceed that by one chunk at most.
    if (this.expected >= 0 && this.received >= this.expected + 2) {
      return { message: Buffer.concat(this.chunks, this.received).subarray(2, this.expected + 2) };
    }
    return undefined;
  }

  get bytes(): number {
    return this.received;
  }

  /** The whole length the frame announced, or -1 before the length arrived. */
  get frameLength(): number {
    return this.expected < 0 ? -1 : this.expected + 2;
  }
}

function decode(buf: Buffer): dnsPacket.DecodedPacket | string {
  try {
    return dnsPacket.decode(buf);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * A cheap deadline (no AbortController, no timer of its own): the exchanges arm one timer
 * each, for the earlier of their own attempt timeout and this deadline, and call expire()
 * when the deadline is reached. The caller's signal is listened to when there is one. One
 * exchange at a time subscribes; the listener fires at most once.
 */
class Deadline {
  readonly at: number;
  private listener: (() => void) | undefined;
  private expired = false;
  private readonly stopWaiting: () => void;

  constructor(timeoutMs: number, private readonly parent: AbortSignal | undefined) {
    this.at = performance.now() + Math.max(1, timeoutMs);
    this.stopWaiting = parent ? onAbort(parent, () => this.fire()) : () => undefined;
  }

  /** Milliseconds left. */
  left(): number {
    return this.at - performance.now();
  }

  timedOut(): boolean {
    return this.expired;
  }

  expire(): void {
    this.expired = true;
    this.fire();
  }

  /** Calls `fn` when the deadline is expired or the caller aborts (at once if already so). */
  subscribe(fn: () => void): void {
    this.listener = fn;
    if (this.expired || this.parent?.aborted === true || this.left() <= 0) {
      if (!this.parent?.aborted) this.expired = true;
      this.fire();
    }
  }

  unsubscribe(): void {
    this.listener = undefined;
  }

  private fire(): void {
    const fn = this.listener;
    this.listener = undefined;
    fn?.();
  }

  dispose(): void {
    this.listener = undefined;
    this.stopWaiting();
  }
}

function abortOutcome(deadline: Deadline, what: string, timeoutMs: number, sent: number): Outcome {
  return deadline.timedOut()
    ? { kind: 'error', code: 'DNS_TIMEOUT', message: `no acceptable answer ${what} within ${timeoutMs} ms`, sent }
    : { kind: 'error', code: 'DNS_ABORTED', message: 'aborted by the caller', sent };
}

function netMessage(err: NodeJS.ErrnoException, proto: 'udp' | 'tcp', server: Endpoint): string {
  const where = `${proto} ${formatEndpoint(server)}`;
  if (err.code === 'ECONNREFUSED') return `nothing listens on ${where} (connection refused)`;
  if (err.code === 'ECONNRESET') return `${where} reset the connection`;
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return `no route to ${where} (${err.code})`;
  return `${where}: ${err.code ?? ''} ${err.message}`.trim();
}

// --- UDP channels
//
// A channel is one UDP socket connected to one server, shared by concurrent queries to that
// server and demultiplexed by query id (like c-ares). Each channel serves at most
// CHANNEL_MAX_USES queries, then a fresh socket (a fresh random source port) takes over; a
// retired channel closes when its last query ends, an idle one after CHANNEL_IDLE_MS. A
// socket error (ICMP port unreachable -> ECONNREFUSED) fails every query waiting on it.
const CHANNEL_MAX_USES = 256;
const CHANNEL_MAX_PENDING = 1024;
const CHANNEL_IDLE_MS = 1000;

interface PendingQuery {
  /** A datagram with this query's id arrived from the server; returns true when it settled the query. */
  onDatagram(msg: Buffer): boolean;
  onError(err: NodeJS.ErrnoException): void;
}

class UdpChannel {
  readonly socket: UdpSocket;
  readonly pending = new Map<number, PendingQuery>();
  uses = 0;
  retired = false;
  private closed = false;
  private ready = false;
  private readonly queue: (() => void)[] = [];
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly server: Endpoint, private readonly key: string) {
    this.socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    this.socket.on('message', (msg: Buffer, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err));
    this.socket.connect(server.port, server.host, () => {
      this.ready = true;
      for (const fn of this.queue.splice(0)) fn();
    });
    this.socket.unref();
  }

  /** Reserves a fresh random id on this channel. */
  add(p: PendingQuery): number {
    let id = randomId();
    while (this.pending.has(id)) id = randomId();
    this.pending.set(id, p);
    this.uses += 1;
    if (this.uses >= CHANNEL_MAX_USES) this.retire();
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    return id;
  }

  remove(id: number): void {
    this.pending.delete(id);
    if (this.pending.size > 0) return;
    if (this.retired) this.close();
    else if (!this.idleTimer) {
      this.idleTimer = setTimeout(() => {
        this.retire();
        if (this.pending.size === 0) this.close();
      }, CHANNEL_IDLE_MS);
      this.idleTimer.unref();
    }
  }

  /**
   * A send error must be seen: on a connected UDP socket the kernel reports an earlier ICMP
   * port unreachable on the next send (ECONNREFUSED), and Node drops send errors when there
   * is no callback. The error fails every query on this channel (the port is unreachable).
   */
  private readonly onSent = (err: Error | null): void => {
    if (err) this.fail(err as NodeJS.ErrnoException);
  };

  send(buf: Buffer): void {
    const go = (): void => {
      if (this.closed) return;
      this.socket.send(buf, this.onSent);
    };
    if (this.ready) go();
    else this.queue.push(go);
  }

  retire(): void {
    if (this.retired) return;
    this.retired = true;
    if (channels.get(this.key) === this) channels.delete(this.key);
  }

  private onMessage(msg: Buffer, address: string, port: number): void {
    if (port !== this.server.port || !sameAddress(address, this.server.host)) return;
    if (msg.length < 2 || msg.length > MAX_DNS_MESSAGE) return;
    this.pending.get(msg.readUInt16BE(0))?.onDatagram(msg);
  }

  fail(err: NodeJS.ErrnoException): void {
    this.retire();
    for (const p of [...this.pending.values()]) p.onError(err);
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.retire();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.socket.removeAllListeners('message');
    this.socket.on('error', () => undefined);
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

const channels = new Map<string, UdpChannel>();

function channelFor(server: Endpoint): UdpChannel {
  const key = `${server.host}|${server.port}`;
  let ch = channels.get(key);
  if (!ch || ch.retired || ch.pending.size >= CHANNEL_MAX_PENDING) {
    ch?.retire();
    ch = new UdpChannel(server, key);
    channels.set(key, ch);
  }
  return ch;
}

type UdpOutcome = Outcome & { id?: number; query?: Buffer };

/**
 * One UDP question on a shared channel: a small state machine (class, not closures, as this
 * is the hot path). Settles its promise exactly once.
 */
class UdpQuery implements PendingQuery {
  sent = 0;
  id = -1;
  query: Buffer | undefined;
  private done = false;
  private timer: NodeJS.Timeout | undefined;
  private settle: ((o: UdpOutcome) => void) | undefined;
  private readonly onDeadline = (): void =>
    this.finish(abortOutcome(this.deadline, `from udp ${formatEndpoint(this.server)}`, this.timeoutMs, this.sent));

  constructor(private readonly channel: UdpChannel, private readonly q: Omit<Question, 'id'>,
    private readonly server: Endpoint, private readonly attemptMs: number, private readonly retries: number,
    private readonly deadline: Deadline, private readonly timeoutMs: number) {}

  run(recursionDesired: boolean): Promise<UdpOutcome> {
    const promise = new Promise<UdpOutcome>((resolve) => {
      this.settle = resolve;
    });
    this.id = this.channel.add(this);
    try {
      this.query = encodeQuery({ name: this.q.name, type: this.q.type, id: this.id }, recursionDesired, true);
    } catch (err) {
      this.finish({ kind: 'error', code: 'DNS_BAD_NAME', sent: 0,
        message: `cannot encode ${this.q.name}: ${err instanceof Error ? err.message : String(err)}` });
      return promise;
    }
    this.deadline.subscribe(this.onDeadline);
    this.transmit();
    return promise;
  }

  onError(err: NodeJS.ErrnoException): void {
    this.finish({ kind: 'error', code: 'DNS_NETWORK', message: netMessage(err, 'udp', this.server), sent: this.sent });
  }

  onDatagram(msg: Buffer): boolean {
    const packet = decode(msg);
    if (typeof packet === 'string') {
      this.finish({ kind: 'error', code: 'DNS_MALFORMED', sent: this.sent,
        message: `undecodable answer (${msg.length} bytes) from udp ${formatEndpoint(this.server)}: ${packet}` });
      return true;
    }
    if (mismatch(packet, this.q.name, this.q.type) !== undefined) return false;
    this.finish({ kind: 'packet', packet, sent: this.sent });
    return true;
  }

  private transmit(): void {
    if (this.done || !this.query) return;
    this.sent += 1;
    this.channel.send(this.query);
    // One timer: the end of this attempt or the deadline, whichever comes first.
    this.timer = setTimeout(UdpQuery.onTimer, Math.max(1, Math.min(this.attemptMs, this.deadline.left())), this);
  }

  private static onTimer(self: UdpQuery): void {
    self.timer = undefined;
    if (self.done) return;
    if (self.sent > self.retries) {
      self.finish({ kind: 'error', code: 'DNS_TIMEOUT', sent: self.sent,
        message: `no answer from udp ${formatEndpoint(self.server)} after ${self.sent} transmission(s) of ${Math.round(self.attemptMs)} ms` });
    } else if (self.deadline.left() <= 1) {
      self.deadline.expire();
    } else {
      self.transmit();
    }
  }

  private finish(outcome: UdpOutcome): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.deadline.unsubscribe();
    this.channel.remove(this.id);
    if (this.query) {
      outcome.id = this.id;
      outcome.query = this.query;
    }
    this.settle?.(outcome);
  }
}

function udpExchange(q: Omit<Question, 'id'>, recursionDesired: boolean, server: Endpoint, attemptMs: number,
  retries: number, deadline: Deadline, timeoutMs: number): Promise<UdpOutcome> {
  return new UdpQuery(channelFor(server), q, server, attemptMs, retries, deadline, timeoutMs).run(recursionDesired);
}

function tcpExchange(query: Buffer, q: Question, server: Endpoint, deadline: Deadline, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const framer = new DnsTcpFramer();
    let done = false;
    const finish = (outcome: Outcome): void => {
      if (done) return;
      done = true;
      deadline.unsubscribe();
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(outcome);
    };
    const where = `tcp ${formatEndpoint(server)}`;
    const onAbort = (): void => finish(abortOutcome(deadline, `from ${where}`, timeoutMs, 1));
    const timer = setTimeout(() => deadline.expire(), Math.max(1, deadline.left()));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish({ kind: 'error', code: 'DNS_NETWORK', message: netMessage(err, 'tcp', server), sent: 1 }));
    socket.on('data', (chunk: Buffer) => {
      const framed = framer.push(chunk);
      if (framed === undefined) return;
      if ('error' in framed) {
        finish({ kind: 'error', code: 'DNS_MALFORMED', sent: 1, message: `${where} ${framed.error}` });
        return;
      }
      const packet = decode(framed.message);
      if (typeof packet === 'string') {
        finish({ kind: 'error', code: 'DNS_MALFORMED', sent: 1, message: `undecodable answer from ${where}: ${packet}` });
        return;
      }
      if (packet.id !== q.id) {
        finish({ kind: 'error', code: 'DNS_MALFORMED', sent: 1, message: `${where} answered with id ${packet.id}, expected ${q.id}` });
        return;
      }
      const why = mismatch(packet, q.name, q.type);
      if (why !== undefined) {
        finish({ kind: 'error', code: 'DNS_MALFORMED', sent: 1, message: `${where} answered another question: ${why}` });
        return;
      }
      finish({ kind: 'packet', packet, sent: 1 });
    });
    socket.on('end', () => finish(framer.bytes === 0
      ? { kind: 'error', code: 'DNS_NETWORK', sent: 1, message: `${where} closed the connection without answering` }
      : { kind: 'error', code: 'DNS_MALFORMED', sent: 1,
        message: `${where} closed the connection after ${framer.bytes} of ${framer.frameLength < 0 ? '?' : framer.frameLength} bytes` }));
    deadline.subscribe(onAbort);
    if (done) return;
    socket.connect({ host: server.host, port: server.port }, () => {
      const frame = Buffer.allocUnsafe(query.length + 2);
      frame.writeUInt16BE(query.length, 0);
      query.copy(frame, 2);
      socket.write(frame);
    });
  });
}

/** Why dns-packet could not encode `name` faithfully (labels 1-63 bytes, 253 in all), if so. */
function unencodable(name: string): string | undefined {
  if (name === '.' || name === '') return name === '' ? 'empty name' : undefined;
  if (Buffer.byteLength(name) > 253) return 'longer than 253 bytes';
  for (const label of name.split('.')) {
    if (label.length === 0) return 'empty label';
    if (Buffer.byteLength(label) > 63) return 'label longer than 63 bytes';
  }
  return undefined;
}

// Encoded queries differ only in their id: keep a bounded cache of templates and patch the id.
const templates = new Map<string, Buffer>();
const MAX_TEMPLATES = 512;

function templateKey(name: string, type: DnsRecordType, recursionDesired: boolean, edns: boolean): string {
  return `${recursionDesired ? 1 : 0}${edns ? 1 : 0}${type} ${name}`;
}

function encodeQuery(q: Question, recursionDesired: boolean, edns: boolean): Buffer {
  const key = templateKey(q.name, q.type, recursionDesired, edns);
  let template = templates.get(key);
  if (!template) {
    template = encodeFresh(q, recursionDesired, edns);
    if (templates.size >= MAX_TEMPLATES) templates.clear();
    templates.set(key, template);
  }
  const out = Buffer.allocUnsafe(template.length);
  template.copy(out);
  out.writeUInt16BE(q.id, 0);
  return out;
}

function encodeFresh(q: Question, recursionDesired: boolean, edns: boolean): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: q.id,
    flags: recursionDesired ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type: q.type, name: q.name, class: 'IN' }],
    additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_PAYLOAD, extendedRcode: 0, ednsVersion: 0,
      flags: 0, flag_do: false, options: [] }] : [],
  });
}

// AddressGuard is immutable: remember its verdicts per address (bounded).
const guardVerdicts = new WeakMap<AddressGuard, Map<string, boolean>>();
function guardAllows(guard: AddressGuard, host: string): boolean {
  let verdicts = guardVerdicts.get(guard);
  if (!verdicts) {
    verdicts = new Map();
    guardVerdicts.set(guard, verdicts);
  }
  let verdict = verdicts.get(host);
  if (verdict === undefined) {
    verdict = guard.allows(host);
    if (verdicts.size >= 256) verdicts.clear();
    verdicts.set(host, verdict);
  }
  return verdict;
}

/** Asks `server` one question. Never throws. */
interface ServerInfo {
  readonly text: string;
  readonly valid: boolean;
}
// Endpoints are immutable and usually reused: remember their formatting and validity.
const serverInfos = new WeakMap<Endpoint, ServerInfo>();
function serverInfo(server: Endpoint): ServerInfo {
  let info = serverInfos.get(server);
  if (!info) {
    const host = typeof server.host === 'string' ? server.host : '';
    const valid = isIP(host.split('%')[0] ?? '') !== 0 && Number.isInteger(server.port) && server.port >= 1 && server.port <= 65535;
    info = { text: valid ? formatEndpoint(server) : `${host.slice(0, 80)}:${String(server.port)}`, valid };
    serverInfos.set(server, info);
  }
  return info;
}

export async function queryServer(name: string, type: DnsRecordType, server: Endpoint, opts: QueryOptions): Promise<QueryResult> {
  const started = performance.now();
  const { text: serverText, valid } = serverInfo(server);
  const fail = (code: DnsErrorCode, message: string, queries: number, transport: 'udp' | 'tcp', extra: Partial<QueryResult> = {}): QueryResult =>
    ({ ok: false, server: serverText, transport, queries, seconds: secondsSince(started), answers: [], authoritative: false,
      truncated: false, negativeSoa: false, ...extra, error: { code, message } });
  // The server must be an IP literal: a name would make dgram/net ask the system resolver.
  if (!valid) return fail('DNS_NETWORK', `DNS server "${serverText}" is not an IP address and port`, 0, 'udp');
  if (!guardAllows(opts.guard, server.host)) {
    return fail('GUARD_DENIED', `DNS server ${server.host} is outside the allowed ranges (${opts.guard.describe().join(', ')})`, 0, 'udp');
  }
  if (TYPE_CODES[type] === undefined) return fail('DNS_BAD_NAME', `unsupported record type ${String(type)}`, 0, 'udp');
  const qname = normalizeName(name);
  // A name with a cached query template was validated when the template was made.
  if (!templates.has(templateKey(qname, type, opts.recursionDesired !== false, true))) {
    const why = unencodable(qname);
    if (why !== undefined) return fail('DNS_BAD_NAME', `cannot ask for "${name.slice(0, 80)}": ${why}`, 0, 'udp');
  }
  const base = { name: qname, type };
  const recursionDesired = opts.recursionDesired !== false;
  const retries = Math.max(0, Math.floor(opts.retries ?? 1));
  const attemptMs = opts.attemptTimeoutMs ?? opts.timeoutMs / (retries + 1);
  const deadline = new Deadline(opts.timeoutMs, opts.signal);
  try {
    let transport: 'udp' | 'tcp' = 'udp';
    let queries = 0;
    let truncated = false;
    let outcome: Outcome;
    if (!opts.tcpOnly) {
      const udp = await udpExchange(base, recursionDesired, server, attemptMs, retries, deadline, opts.timeoutMs);
      outcome = udp;
      queries += udp.sent;
      if (udp.kind === 'packet' && udp.packet.flag_tc && udp.query && udp.id !== undefined) {
        truncated = true;
        transport = 'tcp';
        outcome = await tcpExchange(udp.query, { ...base, id: udp.id }, server, deadline, opts.timeoutMs);
        queries += 1;
      }
    } else {
      transport = 'tcp';
      const q: Question = { ...base, id: randomId() };
      outcome = await tcpExchange(encodeQuery(q, recursionDesired, true), q, server, deadline, opts.timeoutMs);
      queries += 1;
    }
    if (outcome.kind === 'error') return fail(outcome.code, outcome.message, queries, transport, { truncated });
    const packet = outcome.packet;
    if (transport === 'tcp' && packet.flag_tc) {
      return fail('DNS_MALFORMED', `${serverText} set TC on a TCP answer`, queries, transport, { truncated });
    }
    const { rcode, answers, authoritative, negativeSoa } = viewOf(packet);
    const code = rcodeToError(rcode);
    if (code !== undefined) {
      return fail(code, `${serverText} answered ${rcodeName(rcode)} for ${qname} ${type}`, queries, transport,
        { rcode, answers, authoritative, truncated, negativeSoa });
    }
    return { ok: true, server: serverText, transport, queries, seconds: secondsSince(started), rcode, answers, authoritative,
      truncated, negativeSoa };
  } finally {
    deadline.dispose();
  }
}
