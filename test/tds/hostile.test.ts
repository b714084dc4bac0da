// Hostile peers on 127.14.3.x: random bytes, a 65,535 length field with no body,
// a peer that never answers, a peer that trickles an endless message. Each must
// give a clean result within the deadline, with bounded memory.
import t from 'tap';
import { createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { probeDataPath } from '../../src/probes/datapath.js';
import { testContext } from '../helpers/context.js';
import { probeLogin, resetLoginRateLimit } from '../../src/probes/login.js';
import { loopbackGuard, FQDN } from '../helpers/tds.js';

async function serve(host: string, onConn: (s: Socket) => void): Promise<Server> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => { sockets.add(s); s.on('error', () => undefined); s.on('close', () => sockets.delete(s)); onConn(s); });
  await new Promise<void>((r) => server.listen(1433, host, () => r()));
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close(); });
  return server;
}

const TIMEOUT = 800;
const ctx = (): ReturnType<typeof testContext> => testContext(loopbackGuard(), TIMEOUT);
const probe = (address: string) => probeDataPath({ host: FQDN, address, port: 1433 }, ctx());

t.test('random bytes', async (t) => {
  await serve('127.14.3.1', (s) => s.once('data', () => s.write(randomBytes(4096))));
  const r = await probe('127.14.3.1');
  t.equal(r.ok, false);
  t.equal(r.prelogin?.ok, false);
  if (r.prelogin && !r.prelogin.ok) t.ok(['TDS_BAD_LENGTH', 'TDS_MALFORMED', 'TDS_UNEXPECTED_TYPE', 'TDS_TIMEOUT'].includes(r.prelogin.code), r.prelogin.code);
  t.ok(r.seconds <= TIMEOUT / 1000 + 0.2);
});

t.test('length field 65,535 and no body', async (t) => {
  await serve('127.14.3.2', (s) => s.once('data', () => s.write(Buffer.from([0x04, 0x01, 0xff, 0xff, 0, 0, 1, 0]))));
  const r = await probe('127.14.3.2');
  t.equal(r.prelogin?.ok, false);
  if (r.prelogin && !r.prelogin.ok) t.equal(r.prelogin.code, 'TDS_BAD_LENGTH');
});

t.test('never answers', async (t) => {
  await serve('127.14.3.3', () => undefined);
  const r = await probe('127.14.3.3');
  if (r.prelogin && !r.prelogin.ok) t.equal(r.prelogin.code, 'TDS_TIMEOUT');
  else t.fail('expected a failed PRELOGIN');
  t.ok(r.seconds >= TIMEOUT / 1000 - 0.05 && r.seconds <= TIMEOUT / 1000 + 0.3, `${r.seconds} s`);
});

t.test('an endless message of valid packets is capped', async (t) => {
  await serve('127.14.3.4', (s) => s.once('data', () => {
    const packet = Buffer.alloc(4096, 0);
    packet[0] = 0x04; packet[1] = 0x00; packet.writeUInt16BE(4096, 2);
    const tick = setInterval(() => { if (s.destroyed) clearInterval(tick); else for (let i = 0; i < 16; i++) s.write(packet); }, 1);
    s.on('close', () => clearInterval(tick));
  }));
  const before = process.memoryUsage().rss;
  const r = await probe('127.14.3.4');
  if (r.prelogin && !r.prelogin.ok) t.equal(r.prelogin.code, 'TDS_TOO_LARGE');
  else t.fail('expected a failed PRELOGIN');
  t.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, 'memory stays bounded');
});

t.test('hostile peer during the TLS handshake (garbage after a valid PRELOGIN answer)', async (t) => {
  await serve('127.14.3.5', (s) => {
    let n = 0;
    s.on('data', () => {
      n++;
      if (n === 1) {
        // a valid PRELOGIN answer with ENCRYPT_ON, then garbage during TLS
        const body = Buffer.from('000006000001000700010100000000000001ff'.replace(/\s/g, ''), 'hex');
        const fixed = Buffer.from([0x00, 0x00, 0x0b, 0x00, 0x06, 0x01, 0x00, 0x11, 0x00, 0x01, 0xff, 16, 0, 0, 0, 0, 0, 1]);
        void body;
        const head = Buffer.from([0x04, 0x01, 0, 8 + fixed.length, 0, 0, 1, 0]);
        s.write(Buffer.concat([head, fixed]));
      } else s.write(randomBytes(2048));
    });
  });
  const r = await probe('127.14.3.5');
  t.equal(r.prelogin?.ok, true, 'PRELOGIN parsed');
  t.equal(r.tls?.ok, false);
  if (r.tls && !r.tls.ok) t.ok(['TLS_PROTOCOL', 'TLS_HANDSHAKE_FAILED', 'TLS_CLOSED', 'TLS_TIMEOUT'].includes(r.tls.code), r.tls.code);
  t.ok(r.seconds <= TIMEOUT / 1000 + 0.3);
});

t.test('login against a peer that never answers ends at the deadline', async (t) => {
  resetLoginRateLimit();
  await serve('127.14.3.6', () => undefined);
  const r = await probeLogin({ mode: 'dummy', host: FQDN, address: '127.14.3.6', dummyIntervalMs: 0 }, ctx());
  t.equal(r.ok, false);
  t.equal(r.code, 'LOGIN_TIMEOUT');
  t.ok(r.seconds <= TIMEOUT / 1000 + 0.5, `${r.seconds} s`);
  if (!r.ok) t.equal(r.failedPhase, 'prelogin');
});

t.test('guard: addresses outside the allowed ranges are never contacted', async (t) => {
  const r = await probeDataPath({ host: FQDN, address: '10.1.2.3', port: 1433 }, ctx());
  t.equal(r.tcp.ok, false);
  if (!r.tcp.ok) t.equal(r.tcp.code, 'GUARD_DENIED');
  const l = await probeLogin({ mode: 'dummy', host: FQDN, address: '10.1.2.3', dummyIntervalMs: 0 }, ctx());
  t.equal(l.ok, false);
  t.equal(l.code, 'LOGIN_SOCKET');
});

t.test('dummy logins are rate-limited per instance', async (t) => {
  resetLoginRateLimit();
  const o = { mode: 'dummy' as const, host: 'rate.example.net', address: '127.14.3.99' };
  const first = await probeLogin(o, testContext(loopbackGuard(), 300));
  t.not(first.code, 'LOGIN_RATE_LIMITED');
  const second = await probeLogin(o, testContext(loopbackGuard(), 300));
  t.equal(second.code, 'LOGIN_RATE_LIMITED');
  const none = await probeLogin({ ...o, mode: 'none' }, testContext(loopbackGuard(), 300));
  t.equal(none.code, 'LOGIN_SKIPPED');
});
