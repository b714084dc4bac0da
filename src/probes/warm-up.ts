// Before the first timed probe: run each probe's code path once against this
// process's own loopback listeners, so that first-call costs (lazy compilation,
// loading the dgram binding, building the DNS codec's tables) are paid here and
// not on a probe's clock. Nothing leaves the process: a canned DNS answer from a
// UDP socket of ours, a TCP listener of ours, a PRELOGIN answer decoded from bytes.
//
// API: warmUpProbes() -> Promise<void>     never throws; at most ~1 s
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { resolve } from '../net/dns/resolve.js';
import { AddressGuard } from '../net/guard.js';
import { tcpConnect } from '../net/tcp.js';
import { decodePrelogin, encodePrelogin } from '../net/tds/prelogin.js';

const LOOPBACK = '127.0.0.1';
const NAME = 'warm-up.miprobe.invalid';

/**
 * A canned answer: NAME gets a CNAME to target.NAME (plus its A record for an A query, as real resolvers
 * answer); target.NAME gets its A record, or nothing (NODATA) for AAAA.
 */
function answerFor(query: Buffer): Buffer | undefined {
  const questionEnd = query.indexOf(0, 12) + 5;
  if (query.length < 17 || questionEnd < 17 || questionEnd > query.length) return undefined;
  const isA = query.readUInt16BE(questionEnd - 4) === 1;
  const isTarget = query.subarray(13, 19).toString('latin1') === 'target';
  const a = (pointer: number): Buffer => Buffer.from([0xc0 | (pointer >> 8), pointer & 0xff, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
  const records: Buffer[] = [];
  if (isTarget) {
    if (isA) records.push(a(12));
  } else {
    const target = Buffer.from([6, ...Buffer.from('target'), 0xc0, 0x0c]); // target.<question name>
    records.push(Buffer.concat([Buffer.from([0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0, 60, 0, target.length]), target]));
    if (isA) records.push(a(questionEnd + 12)); // the CNAME's data: where target.<name> is written
  }
  const header = Buffer.from(query.subarray(0, 12));
  header[2] = 0x81; // QR, RD
  header[3] = 0x80; // RA, NOERROR
  header.writeUInt16BE(records.length, 6);
  header.writeUInt32BE(0, 8); // no authority, no additional records
  return Buffer.concat([header, query.subarray(12, questionEnd), ...records]);
}

async function warmDns(): Promise<void> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, from) => {
    const answer = answerFor(msg);
    if (answer) socket.send(answer, from.port, from.address);
  });
  await new Promise<void>((done) => socket.bind(0, LOOPBACK, () => done()));
  try {
    await resolve(NAME, { servers: [{ host: LOOPBACK, port: socket.address().port }], guard: AddressGuard.fromList([`${LOOPBACK}/32`]), timeoutMs: 1000, retries: 0 });
  } finally {
    socket.close();
  }
}

async function warmTcp(): Promise<void> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((done) => server.listen(0, LOOPBACK, () => done()));
  try {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await tcpConnect(LOOPBACK, port, { guard: AddressGuard.fromList([`${LOOPBACK}/32`]), timeoutMs: 1000 });
  } finally {
    await new Promise<void>((done) => server.close(() => done()));
  }
}

let warmed: Promise<void> | undefined;

/** Once per process: first-call costs are paid once (the agent runs thousands of checks). */
export function warmUpProbes(): Promise<void> {
  warmed ??= (async () => {
    decodePrelogin(encodePrelogin({ version: { major: 12, minor: 0, build: 2000, subbuild: 8 }, encryption: 1, instance: '', threadId: null, mars: false }));
    await Promise.all([warmDns(), warmTcp()]).catch(() => undefined);
  })();
  return warmed;
}
