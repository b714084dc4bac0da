// A simulated DNS server for the demo and the tests: UDP and TCP on the same
// address and port, answering from a record set like a recursive resolver
// that is also authoritative for every name it holds.
//
// API (stable):
//   startDnsServer(opts: DnsServerOptions): Promise<SimDnsServer>
//   SimDnsServer: { endpoint, queryCount(), queries(), setBehaviour(b, name?), setRecords(r), close() }
//
// Answers: CNAMEs inside its own data are followed and the whole chain is returned, then the
// records of the requested type at the end of the chain (like a recursive resolver).
// `partialChain: true` returns only the first CNAME, so the client has to follow it. A name
// with no record, or a chain ending on such a name, is NXDOMAIN (an ancestor of a known name
// is an empty non-terminal: NOERROR without answers). A CNAME loop in the data is returned as
// far as it goes (each name once) and never loops the server. EDNS0 is echoed; a UDP answer
// larger than the client's payload size (512 without EDNS) is sent truncated (TC, no answers).
//
// Behaviours (for the whole server, or per question name through `behaviours`):
//   normal            answer from the records
//   nxdomain | servfail | refused | notimp | formerr   that rcode, no answers
//   silent            count the query, never answer (UDP and TCP)
//   truncate-udp      UDP: TC=1 without answers; TCP: the full answer
//   tcp-close         UDP: TC=1; TCP: close the connection without answering
//   malformed         bytes that start with the right id but do not decode (UDP and TCP)
//   wrong-id          an answer with another id, then nothing (TCP: the wrong id only)
//   wrong-id-then-right        an answer with another id, then the right answer
//   wrong-question-then-right  right id but another question, then the right answer
//   wrong-source      UDP: the right answer, but sent from another port; then nothing
//   wrong-source-then-right    UDP: a bogus answer from another port, then the right one
//   drop-first        UDP: ignore the first transmission of each question, answer the rest
// `delayMs` delays every answer. Garbage (undecodable queries) gets FORMERR when it is at
// least a header long, and is dropped otherwise; the server never throws on input.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Endpoint } from '../net/endpoint.js';

export interface SimRecord {
  readonly name: string;
  readonly type: 'A' | 'AAAA' | 'CNAME';
  readonly data: string;
  readonly ttl?: number;
}

export type DnsBehaviour =
  | 'normal' | 'nxdomain' | 'servfail' | 'refused' | 'notimp' | 'formerr' | 'silent' | 'truncate-udp' | 'tcp-close'
  | 'malformed' | 'wrong-id' | 'wrong-id-then-right' | 'wrong-question-then-right' | 'wrong-source'
  | 'wrong-source-then-right' | 'drop-first';

export interface DnsServerOptions {
  /** An IP address to bind (UDP and TCP). */
  readonly host: string;
  /** 0 or absent: an ephemeral port, the same for UDP and TCP. */
  readonly port?: number;
  readonly records: readonly SimRecord[];
  /** Default 'normal'. */
  readonly behaviour?: DnsBehaviour;
  /**
   * Behaviour per question name (case-insensitive), overriding `behaviour`; a key "name/TYPE"
   * (e.g. "a.test/AAAA") applies to that type only and wins over the bare name.
   */
  readonly behaviours?: Readonly<Record<string, DnsBehaviour>>;
  /** Return only the first CNAME of a chain. */
  readonly partialChain?: boolean;
  /** Delay before every answer, in ms. */
  readonly delayMs?: number;
  /** Listen on TCP too. Default true. */
  readonly tcp?: boolean;
  /** TTL for records without one. Default 60. */
  readonly defaultTtl?: number;
  /** Closes the server when aborted. */
  readonly signal?: AbortSignal;
}

export interface SeenQuery {
  readonly transport: 'udp' | 'tcp';
  readonly name: string;
  readonly type: string;
}

export interface SimDnsServer {
  /** The bound address and port (UDP and TCP). */
  readonly endpoint: Endpoint;
  /** Messages received (UDP datagrams and TCP messages, garbage included). */
  queryCount(): number;
  /** The last 1000 decodable queries, oldest first. */
  queries(): readonly SeenQuery[];
  setBehaviour(behaviour: DnsBehaviour, name?: string): void;
  setRecords(records: readonly SimRecord[]): void;
  close(): Promise<void>;
}

const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const MAX_LOG = 1000;
const MAX_TCP_CONNECTIONS = 256;
const TCP_IDLE_MS = 10_000;
const MAX_CHAIN = 64;

interface Zone {
  readonly byName: Map<string, SimRecord[]>;
  /** Every owner name and all of its ancestors. */
  readonly existing: Set<string>;
}

function norm(name: string): string {
  const lower = name.toLowerCase();
  return lower.length > 1 && lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function buildZone(records: readonly SimRecord[], defaultTtl: number): Zone {
  const byName = new Map<string, SimRecord[]>();
  const existing = new Set<string>();
  for (const r of records) {
    const name = norm(r.name);
    const rec: SimRecord = { name, type: r.type, data: r.type === 'CNAME' ? norm(r.data) : r.data, ttl: r.ttl ?? defaultTtl };
    const list = byName.get(name) ?? [];
    list.push(rec);
    byName.set(name, list);
    const labels = name.split('.');
    for (let i = 0; i < labels.length; i += 1) existing.add(labels.slice(i).join('.'));
  }
  return { byName, existing };
}

type Answer = dnsPacket.Answer;

function toAnswer(r: SimRecord): Answer {
  return { type: r.type, name: r.name, class: 'IN', ttl: r.ttl ?? 60, data: r.data };
}

/** The answer section and rcode for one question, from the zone. */
export function lookup(zone: Zone, qname: string, qtype: string, partialChain: boolean): { rcode: number; answers: Answer[];
  /** The name the answer ends on without records of qtype (NODATA or NXDOMAIN), for the SOA. */
  negative?: string } {
  const answers: Answer[] = [];
  let current = norm(qname);
  const visited = new Set<string>([current]);
  if (qtype !== 'CNAME') {
    for (let i = 0; i < MAX_CHAIN; i += 1) {
      const cname = zone.byName.get(current)?.find((r) => r.type === 'CNAME');
      if (!cname) break;
      answers.push(toAnswer(cname));
      if (partialChain || visited.has(cname.data)) return { rcode: RCODES.NOERROR, answers };
      visited.add(cname.data);
      current = cname.data;
    }
  }
  let found = false;
  for (const r of zone.byName.get(current) ?? []) {
    if (r.type === qtype) {
      answers.push(toAnswer(r));
      found = true;
    }
  }
  const rcode = zone.existing.has(current) ? RCODES.NOERROR : RCODES.NXDOMAIN;
  return { rcode, answers, ...(found ? {} : { negative: current }) };
}

function hasOpt(q: dnsPacket.DecodedPacket): number | undefined {
  for (const a of q.additionals ?? []) if (a.type === 'OPT') return a.udpPayloadSize;
  return undefined;
}

/** RFC 2308 negative answers carry the SOA of the zone; the zone here is the last two labels. */
function soaFor(name: string): Answer {
  const labels = name.split('.');
  const zone = labels.length > 2 ? labels.slice(-2).join('.') : name;
  return { type: 'SOA', name: zone, class: 'IN', ttl: 60, data: { mname: 'ns.sim.invalid', rname: 'hostmaster.sim.invalid',
    serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 60 } };
}

function encodeResponse(query: dnsPacket.DecodedPacket, rcode: number, answers: Answer[], opts: { id?: number; tc?: boolean;
  questionName?: string; authorities?: Answer[] } = {}): Buffer {
  const question = query.questions?.[0];
  const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE | rd
    | (opts.tc ? dnsPacket.TRUNCATED_RESPONSE : 0) | (rcode & 0xf);
  const payload = hasOpt(query);
  return dnsPacket.encode({
    type: 'response',
    id: opts.id ?? query.id ?? 0,
    flags,
    questions: question ? [{ ...question, name: opts.questionName ?? question.name }] : [],
    answers,
    authorities: opts.authorities ?? [],
    additionals: payload !== undefined ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0,
      ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
  });
}

/** Starts with the right id, claims one question and one answer, then stops mid-label. */
function malformedBytes(id: number): Buffer {
  const buf = Buffer.from([0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 63, 0x61, 0x62, 0x63]);
  buf.writeUInt16BE(id & 0xffff, 0);
  return buf;
}

function formerrFor(msg: Buffer): Buffer | undefined {
  if (msg.length < 12) return undefined;
  if ((msg[2] ?? 0) & 0x80) return undefined; // a response: never answer it
  return dnsPacket.encode({ type: 'response', id: msg.readUInt16BE(0), flags: RCODES.FORMERR, questions: [], answers: [] });
}

interface Reply {
  /** Buffers to send in order on the query's own socket. */
  readonly own: Buffer[];
  /** Buffers to send (UDP only) from another port first. */
  readonly other?: Buffer[];
  /** TCP: close the connection after sending. */
  readonly close?: boolean;
}

export async function startDnsServer(opts: DnsServerOptions): Promise<SimDnsServer> {
  const family = isIP(opts.host);
  if (family === 0) throw new Error(`startDnsServer: host must be an IP address, got "${opts.host}"`);
  const defaultTtl = opts.defaultTtl ?? 60;
  let zone = buildZone(opts.records, defaultTtl);
  let defaultBehaviour: DnsBehaviour = opts.behaviour ?? 'normal';
  const perName = new Map<string, DnsBehaviour>(Object.entries(opts.behaviours ?? {}).map(([k, v]) => [norm(k), v]));
  // "name/TYPE" keys are stored lower-case like bare names.
  const seenFirst = new Set<string>();
  const log: SeenQuery[] = [];
  let count = 0;
  let closed = false;

  const behaviourFor = (name: string, type: string): DnsBehaviour =>
    perName.get(`${norm(name)}/${type.toLowerCase()}`) ?? perName.get(norm(name)) ?? defaultBehaviour;

  const reply = (query: dnsPacket.DecodedPacket, transport: 'udp' | 'tcp'): Reply | undefined => {
    const q = query.questions?.[0];
    const id = query.id ?? 0;
    if (!q || (query.questions?.length ?? 0) !== 1 || query.type === 'response') {
      return query.type === 'response' ? undefined : { own: [encodeResponse(query, RCODES.FORMERR, [])] };
    }
    const behaviour = behaviourFor(q.name, q.type);
    const right = (): Buffer => {
      const { rcode, answers, negative } = lookup(zone, q.name, q.type, opts.partialChain === true);
      // A partial chain (authoritative server not chasing the CNAME) has no SOA: the client must follow.
      const partial = opts.partialChain === true && answers.some((a) => a.type === 'CNAME');
      const authorities = negative !== undefined && !partial ? [soaFor(negative)] : [];
      const full = encodeResponse(query, rcode, answers, { authorities });
      if (transport === 'udp') {
        const limit = Math.max(512, hasOpt(query) ?? 512);
        if (full.length > limit) return encodeResponse(query, rcode, [], { tc: true });
      }
      return full;
    };
    const wrongId = (id + 1 + (id % 255)) & 0xffff;
    switch (behaviour) {
      case 'normal': return { own: [right()] };
      case 'nxdomain': return { own: [encodeResponse(query, RCODES.NXDOMAIN, [], { authorities: [soaFor(norm(q.name))] })] };
      case 'servfail': return { own: [encodeResponse(query, RCODES.SERVFAIL, [])] };
      case 'refused': return { own: [encodeResponse(query, RCODES.REFUSED, [])] };
      case 'notimp': return { own: [encodeResponse(query, RCODES.NOTIMP, [])] };
      case 'formerr': return { own: [encodeResponse(query, RCODES.FORMERR, [])] };
      case 'silent': return undefined;
      case 'truncate-udp':
        return { own: [transport === 'udp' ? encodeResponse(query, RCODES.NOERROR, [], { tc: true }) : right()] };
      case 'tcp-close':
        return transport === 'udp' ? { own: [encodeResponse(query, RCODES.NOERROR, [], { tc: true })] } : { own: [], close: true };
      case 'malformed': return { own: [malformedBytes(id)] };
      case 'wrong-id': return { own: [encodeResponse(query, RCODES.NOERROR, lookup(zone, q.name, q.type, false).answers, { id: wrongId })] };
      case 'wrong-id-then-right':
        return { own: [encodeResponse(query, RCODES.NOERROR, [toAnswer({ name: q.name, type: 'A', data: '192.0.2.66' })],
          { id: wrongId }), right()] };
      case 'wrong-question-then-right':
        return { own: [encodeResponse(query, RCODES.NOERROR, [], { questionName: `x${q.name}` }), right()] };
      case 'wrong-source':
        return transport === 'udp' ? { own: [], other: [right()] } : { own: [right()] };
      case 'wrong-source-then-right':
        return transport === 'udp'
          ? { own: [right()], other: [encodeResponse(query, RCODES.NOERROR,
            [toAnswer({ name: norm(q.name), type: 'A', data: '192.0.2.66' })])] }
          : { own: [right()] };
      case 'drop-first': {
        const key = `${transport} ${norm(q.name)} ${q.type} ${id}`;
        if (transport === 'udp' && !seenFirst.has(key)) {
          if (seenFirst.size > 10_000) seenFirst.clear();
          seenFirst.add(key);
          return undefined;
        }
        return { own: [right()] };
      }
      default: return { own: [right()] };
    }
  };

  const handle = (msg: Buffer, transport: 'udp' | 'tcp'): Reply | undefined => {
    count += 1;
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      const formerr = formerrFor(msg);
      return formerr ? { own: [formerr] } : undefined;
    }
    const q = query.questions?.[0];
    if (q) {
      log.push({ transport, name: q.name, type: q.type });
      if (log.length > MAX_LOG) log.shift();
    }
    try {
      return reply(query, transport);
    } catch {
      // e.g. a question name that cannot be re-encoded
      const formerr = formerrFor(msg);
      return formerr ? { own: [formerr] } : undefined;
    }
  };

  const later = (fn: () => void): void => {
    if (opts.delayMs && opts.delayMs > 0) setTimeout(fn, opts.delayMs).unref();
    else fn();
  };

  // --- UDP
  const udpType = family === 6 ? 'udp6' : 'udp4';
  let other: UdpSocket | undefined;
  const otherSocket = (): UdpSocket => {
    if (!other) {
      other = createSocket(udpType);
      other.on('error', () => undefined);
      other.bind(0, opts.host);
    }
    return other;
  };
  const makeUdp = (): UdpSocket => {
    const sock = createSocket({ type: udpType, reuseAddr: false });
    sock.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      if (closed) return;
      const r = handle(msg, 'udp');
      if (!r) return;
      later(() => {
        if (closed) return;
        const sendOwn = (): void => {
          for (const b of r.own) sock.send(b, rinfo.port, rinfo.address, () => undefined);
        };
        if (r.other && r.other.length > 0) {
          const o = otherSocket();
          let pending = r.other.length;
          for (const b of r.other) {
            o.send(b, rinfo.port, rinfo.address, () => {
              pending -= 1;
              if (pending === 0) setTimeout(sendOwn, 5).unref();
            });
          }
        } else {
          sendOwn();
        }
      });
    });
    return sock;
  };

  // --- TCP
  const connections = new Set<Socket>();
  const tcpServer: Server | undefined = opts.tcp === false ? undefined : createServer((socket) => {
    if (closed || connections.size >= MAX_TCP_CONNECTIONS) {
      socket.destroy();
      return;
    }
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => undefined);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      if (socket.writableEnded) return;
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      if (pending.length > 2 * (65535 + 2)) {
        socket.destroy();
        return;
      }
      while (pending.length >= 2 && !socket.writableEnded) {
        const len = pending.readUInt16BE(0);
        if (len < 12) {
          // Shorter than a DNS header: not a DNS peer. Flush what was answered and hang up.
          pending = Buffer.alloc(0);
          socket.end();
          socket.resume();
          return;
        }
        if (pending.length < len + 2) break;
        const msg = pending.subarray(2, len + 2);
        pending = pending.subarray(len + 2);
        const r = handle(Buffer.from(msg), 'tcp');
        if (!r) continue;
        later(() => {
          if (socket.destroyed) return;
          for (const b of r.own) {
            const frame = Buffer.allocUnsafe(b.length + 2);
            frame.writeUInt16BE(b.length, 0);
            b.copy(frame, 2);
            socket.write(frame);
          }
          if (r.close) socket.end();
        });
      }
    });
  });

  const bindUdp = (sock: UdpSocket, port: number): Promise<number> => new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    sock.once('error', onError);
    sock.bind({ port, address: opts.host, exclusive: true }, () => {
      sock.removeListener('error', onError);
      sock.on('error', () => undefined);
      resolve(sock.address().port);
    });
  });
  const listenTcp = (server: Server, port: number): Promise<void> => new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ port, host: opts.host, exclusive: true }, () => {
      server.removeListener('error', onError);
      resolve();
    });
  });

  // Port 0: take an ephemeral UDP port, then the same port on TCP; when TCP already has it
  // taken, start again with a fresh UDP socket (only for port 0).
  let udp: UdpSocket;
  let port: number;
  for (let tries = 0; ; tries += 1) {
    udp = makeUdp();
    try {
      port = await bindUdp(udp, opts.port ?? 0);
    } catch (err) {
      udp.close();
      throw err;
    }
    if (!tcpServer) break;
    try {
      await listenTcp(tcpServer, port);
      break;
    } catch (err) {
      udp.close();
      if ((opts.port ?? 0) !== 0 || tries >= 10) throw err;
    }
  }
  const udpSocket = udp;

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const s of connections) s.destroy();
    await Promise.all([
      new Promise<void>((r) => udpSocket.close(() => r())),
      other ? new Promise<void>((r) => other?.close(() => r())) : Promise.resolve(),
      tcpServer ? new Promise<void>((r) => tcpServer.close(() => r())) : Promise.resolve(),
    ]);
  };
  opts.signal?.addEventListener('abort', () => void close(), { once: true });

  return {
    endpoint: { host: opts.host, port },
    queryCount: () => count,
    queries: () => [...log],
    /** `name` may be "name/TYPE" for one record type only. */
    setBehaviour: (behaviour, name) => {
      if (name === undefined) defaultBehaviour = behaviour;
      else perName.set(norm(name), behaviour);
    },
    setRecords: (records) => {
      zone = buildZone(records, defaultTtl);
    },
    close,
  };
}
