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
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { randomFillSync } from 'node:crypto';
import { isIP, Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { ipToBigInt } from '../address.js';
import { secondsSince, type NetOptions } from '../deadline.js';
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
function mismatch(packet: dnsPacket.DecodedPacket, q: Question): string | undefined {
  if (packet.type !== 'response') return 'QR bit not set';
  const questions = packet.questions ?? [];
  if (questions.length === 0) {
    return (packet.flags ?? 0) & 0xf ? undefined : 'no question section in a NOERROR response';
  }
  if (questions.length !== 1) return `${questions.length} questions`;
  const got = questions[0];
  if (!got) return 'no question';
  if (normalizeName(got.name) !== q.name) return `question name ${got.name} instead of ${q.name}`;
  if (got.type !== q.type) return `question type ${got.type} instead of ${q.type}`;
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

function decode(buf: Buffer): dnsPacket.DecodedPacket | string {
  try {
    return dnsPacket.decode(buf);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

interface Deadline {
  readonly signal: AbortSignal;
  readonly timedOut: () => boolean;
  readonly dispose: () => void;
}

/** A cheap deadline: one timer plus the caller's signal, without AbortSignal.any. */
function makeDeadline(timeoutMs: number, parent: AbortSignal | undefined): Deadline {
  const ac = new AbortController();
  let timedOut = false;
  const onParent = (): void => ac.abort(parent?.reason);
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort(new Error('deadline'));
  }, Math.max(1, timeoutMs));
  if (parent) {
    if (parent.aborted) onParent();
    else parent.addEventListener('abort', onParent, { once: true });
  }
  return {
    signal: ac.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
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

function udpExchange(query: Buffer, q: Question, server: Endpoint, attemptMs: number, retries: number,
  deadline: Deadline, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket: UdpSocket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    let sent = 0;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: Outcome): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      deadline.signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('message');
      socket.on('error', () => undefined);
      try {
        socket.close();
      } catch {
        // already closed
      }
      resolve(outcome);
    };
    const onAbort = (): void => finish(abortOutcome(deadline, `from udp ${formatEndpoint(server)}`, timeoutMs, sent));
    const transmit = (): void => {
      if (done) return;
      sent += 1;
      socket.send(query, (err) => {
        if (err) finish({ kind: 'error', code: 'DNS_NETWORK', message: netMessage(err, 'udp', server), sent });
      });
      timer = setTimeout(onAttemptTimeout, Math.max(1, attemptMs));
    };
    const onAttemptTimeout = (): void => {
      if (sent <= retries) transmit();
      else finish({ kind: 'error', code: 'DNS_TIMEOUT', sent,
        message: `no answer from udp ${formatEndpoint(server)} after ${sent} transmission(s) of ${Math.round(attemptMs)} ms` });
    };
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish({ kind: 'error', code: 'DNS_NETWORK', message: netMessage(err, 'udp', server), sent }));
    socket.on('message', (msg: Buffer, rinfo) => {
      if (rinfo.port !== server.port || !sameAddress(rinfo.address, server.host)) return;
      if (msg.length < 2 || msg.length > MAX_DNS_MESSAGE || msg.readUInt16BE(0) !== q.id) return;
      const packet = decode(msg);
      if (typeof packet === 'string') {
        finish({ kind: 'error', code: 'DNS_MALFORMED', sent,
          message: `undecodable answer (${msg.length} bytes) from udp ${formatEndpoint(server)}: ${packet}` });
        return;
      }
      if (mismatch(packet, q) !== undefined) return;
      finish({ kind: 'packet', packet, sent });
    });
    if (deadline.signal.aborted) return onAbort();
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    socket.connect(server.port, server.host, transmit);
  });
}

function tcpExchange(query: Buffer, q: Question, server: Endpoint, deadline: Deadline, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const chunks: Buffer[] = [];
    let received = 0;
    let expected = -1;
    let done = false;
    const finish = (outcome: Outcome): void => {
      if (done) return;
      done = true;
      deadline.signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('data');
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(outcome);
    };
    const where = `tcp ${formatEndpoint(server)}`;
    const onAbort = (): void => finish(abortOutcome(deadline, `from ${where}`, timeoutMs, 1));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish({ kind: 'error', code: 'DNS_NETWORK', message: netMessage(err, 'tcp', server), sent: 1 }));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (expected < 0 && received >= 2) {
        const head = chunks.length === 1 ? chunks[0] ?? chunk : Buffer.concat(chunks);
        expected = head.readUInt16BE(0);
        if (expected < 12) {
          finish({ kind: 'error', code: 'DNS_MALFORMED', sent: 1, message: `${where} framed a ${expected}-byte message` });
          return;
        }
      }
      // At most 2 + 65535 bytes are ever needed; `received` can exceed that by one chunk at most.
      if (expected >= 0 && received >= expected + 2) {
        const all = Buffer.concat(chunks, received).subarray(2, expected + 2);
        const packet = decode(all);
        if (typeof packet === 'string') {
          finish({ kind: 'error', code: 'DNS_MALFORMED', sent: 1, message: `undecodable answer from ${where}: ${packet}` });
          return;
        }
        if (packet.id !== q.id) {
          finish({ kind: 'error', code: 'DNS_MALFORMED', sent: 1, message: `${where} answered with id ${packet.id}, expected ${q.id}` });
          return;
        }
        const why = mismatch(packet, q);
        if (why !== undefined) {
          finish({ kind: 'error', code: 'DNS_MALFORMED', sent: 1, message: `${where} answered another question: ${why}` });
          return;
        }
        finish({ kind: 'packet', packet, sent: 1 });
      }
    });
    socket.on('end', () => finish(received === 0
      ? { kind: 'error', code: 'DNS_NETWORK', sent: 1, message: `${where} closed the connection without answering` }
      : { kind: 'error', code: 'DNS_MALFORMED', sent: 1,
        message: `${where} closed the connection after ${received} of ${expected < 0 ? '?' : expected + 2} bytes` }));
    if (deadline.signal.aborted) return onAbort();
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    socket.connect({ host: server.host, port: server.port }, () => {
      const frame = Buffer.allocUnsafe(query.length + 2);
      frame.writeUInt16BE(query.length, 0);
      query.copy(frame, 2);
      socket.write(frame);
    });
  });
}

function encodeQuery(q: Question, recursionDesired: boolean, edns: boolean): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: q.id,
    flags: recursionDesired ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type: q.type, name: q.name, class: 'IN' }],
    additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_PAYLOAD, extendedRcode: 0, ednsVersion: 0,
      flags: 0, flag_do: false, options: [] }] : [],
  });
}

/** Asks `server` one question. Never throws. */
export async function queryServer(name: string, type: DnsRecordType, server: Endpoint, opts: QueryOptions): Promise<QueryResult> {
  const started = performance.now();
  const serverText = formatEndpoint(server);
  const fail = (code: DnsErrorCode, message: string, queries: number, transport: 'udp' | 'tcp', extra: Partial<QueryResult> = {}): QueryResult =>
    ({ ok: false, server: serverText, transport, queries, seconds: secondsSince(started), answers: [], authoritative: false,
      truncated: false, negativeSoa: false, ...extra, error: { code, message } });
  if (!opts.guard.allows(server.host)) {
    return fail('GUARD_DENIED', `DNS server ${server.host} is outside the allowed ranges (${opts.guard.describe().join(', ')})`, 0, 'udp');
  }
  if (TYPE_CODES[type] === undefined) return fail('DNS_BAD_NAME', `unsupported record type ${String(type)}`, 0, 'udp');
  const q: Question = { name: normalizeName(name), type, id: randomId() };
  let query: Buffer;
  try {
    query = encodeQuery(q, opts.recursionDesired !== false, true);
  } catch (err) {
    return fail('DNS_BAD_NAME', `cannot encode ${name}: ${err instanceof Error ? err.message : String(err)}`, 0, 'udp');
  }
  const retries = Math.max(0, Math.floor(opts.retries ?? 1));
  const attemptMs = opts.attemptTimeoutMs ?? opts.timeoutMs / (retries + 1);
  const deadline = makeDeadline(opts.timeoutMs, opts.signal);
  try {
    let transport: 'udp' | 'tcp' = 'udp';
    let queries = 0;
    let truncated = false;
    let outcome: Outcome;
    if (!opts.tcpOnly) {
      outcome = await udpExchange(query, q, server, attemptMs, retries, deadline, opts.timeoutMs);
      queries += outcome.sent;
      if (outcome.kind === 'packet' && outcome.packet.flag_tc) {
        truncated = true;
        transport = 'tcp';
        outcome = await tcpExchange(query, q, server, deadline, opts.timeoutMs);
        queries += 1;
      }
    } else {
      transport = 'tcp';
      outcome = await tcpExchange(query, q, server, deadline, opts.timeoutMs);
      queries += 1;
    }
    if (outcome.kind === 'error') return fail(outcome.code, outcome.message, queries, transport, { truncated });
    const packet = outcome.packet;
    if (transport === 'tcp' && packet.flag_tc) {
      return fail('DNS_MALFORMED', `${serverText} set TC on a TCP answer`, queries, transport, { truncated });
    }
    const rcode = rcodeOf(packet);
    const answers = answersOf(packet);
    const authoritative = packet.flag_aa;
    const negativeSoa = (packet.authorities ?? []).some((rr) => rr.type === 'SOA');
    const code = rcodeToError(rcode);
    if (code !== undefined) {
      return fail(code, `${serverText} answered ${rcodeName(rcode)} for ${q.name} ${type}`, queries, transport,
        { rcode, answers, authoritative, truncated, negativeSoa });
    }
    return { ok: true, server: serverText, transport, queries, seconds: secondsSince(started), rcode, answers, authoritative,
      truncated, negativeSoa };
  } finally {
    deadline.dispose();
  }
}
