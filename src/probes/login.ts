// The login probe: a TDS login with tedious 19 to the resolved address, with the
// FQDN as tedious' server (LOGIN7 ServerName, SNI) so the gateway can route by name.
// No `serverName` override: tedious then sends and checks what a real driver does
// (the FQDN on the gateway; after a redirect, the routed node's name, against which
// the node's certificate is validated, as SqlClient and mssql-jdbc do).
// Modes: none (skipped), dummy (a deliberately invalid user: 18456 proves the path
// to the engine end to end; rate-limited), sql (user + password), token (an access
// token, FEDAUTH). The password and token are passed in by the caller, used only
// in tedious' config and never logged or returned. Phases are timed at socket
// events, not at tedious' state changes: connect is the TCP handshake (the node's
// name lookup is the redirect probe's), and each later phase is the time from our
// request's write to the arrival of the answer's last bytes, summed over its round
// trips, so tedious' own work (building a TLS context from ~145 roots, packets,
// parsing) between them is not on the network's clock. tedious' `debug` events (state
// changes only: packet/payload/data/token dumps stay off, they would show the
// password) only name the phase an answer belongs to. Connections, including
// redirects, go through a connector that asks the AddressGuard and resolves node
// names with `resolveHost`.
//
// API:
//   probeLogin: Probe<LoginInput, LoginResult>    never throws
//   resetLoginRateLimit(), DUMMY_USER
import { randomBytes } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import tedious from 'tedious';
import { deadlineSignal, remainingMs, secondsSince } from '../net/deadline.js';
import type { AddressGuard } from '../net/guard.js';
import { tcpConnect } from '../net/tcp.js';
import { trustedCa } from '../net/tds/tls.js';
import { GATEWAY_PORT } from '../requirements/platform.js';
import type { HostResolver } from '../net/resolver.js';
import type { Probe, ProbeLog } from './context.js';
import { captureTediousMessages } from './tedious-messages.js';

export type LoginMode = 'none' | 'dummy' | 'sql' | 'token';

export type LoginPhaseName = 'connect' | 'prelogin' | 'tls' | 'login7' | 'initial-sql' | 'routing' | 'query';

export interface LoginPhase {
  /** 0 = the gateway, 1 = the redirect node. */
  readonly leg: number;
  readonly name: LoginPhaseName;
  readonly seconds: number;
}

export type LoginCode =
  | 'LOGIN_OK'                   // logged in (sql, token)
  | 'LOGIN_SKIPPED'              // mode none
  | 'LOGIN_RATE_LIMITED'         // dummy login refused by the local rate limit
  | 'LOGIN_FAILED'               // 18456 with real credentials
  | 'LOGIN_NOT_ROUTED'           // 40532
  | 'LOGIN_CLIENT_IP_DENIED'     // 40615
  | 'LOGIN_PUBLIC_ACCESS_DENIED' // 47073
  | 'LOGIN_VNET_RULE_MISSING'    // 40914
  | 'LOGIN_SERVER_ERROR'         // another server error number
  | 'LOGIN_TIMEOUT'              // ETIMEOUT
  | 'LOGIN_SOCKET'               // ESOCKET (refused, unreachable, guard)
  | 'LOGIN_RESET'                // ECONNRESET / socket hang up
  | 'LOGIN_ENCRYPT'              // EENCRYPT
  | 'LOGIN_CERTIFICATE'          // TLS certificate rejected
  | 'LOGIN_ABORTED'
  | 'LOGIN_ERROR';

export interface RoutingTarget {
  /** The routed host, without a `\instance` suffix. */
  readonly server: string;
  readonly port: number;
  /** The `\instance` suffix of the routing ENVCHANGE, when it had one (tedious sends it on in LOGIN7). */
  readonly instance?: string;
}

/** The name a leg's TLS certificate was checked against (tedious: the FQDN, then the routed host). */
export interface CertificateCheck {
  readonly leg: number;
  readonly name: string;
  /** The certificate's subject and SANs, when the handshake completed (TDS 7.x; tedious does not expose the strict one). */
  readonly subject?: string;
  readonly subjectAltName?: string;
}

export interface LoginQuery {
  readonly ok: boolean;
  readonly seconds: number;
  readonly value?: number;
  readonly message?: string;
}

interface LoginCommon {
  readonly mode: LoginMode;
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly strict: boolean;
  readonly seconds: number;
  readonly phases: readonly LoginPhase[];
  /** TLS was used for the login (false: tedious logged in in clear text). */
  readonly encrypted?: boolean;
  /** The routing ENVCHANGE (type 20) target, when the gateway redirected. */
  readonly routing?: RoutingTarget;
  /** Which name each leg's certificate was validated against. */
  readonly certificateChecks?: readonly CertificateCheck[];
  /** What tedious skipped in the server's answer (e.g. "ENVCHANGE type 21", Enhanced Routing it does not support). */
  readonly skipped?: readonly string[];
  /** Server error number (18456, 40532 ...), when one came. */
  readonly number?: number;
  readonly state?: number;
}

export type LoginResult =
  | (LoginCommon & { readonly ok: true; readonly code: 'LOGIN_OK'; readonly message: string; readonly query?: LoginQuery })
  | (LoginCommon & { readonly ok: false; readonly code: Exclude<LoginCode, 'LOGIN_OK'>; readonly message: string;
      /** The phase that was running when it failed. */
      readonly failedPhase?: LoginPhaseName; readonly tediousCode?: string });

export interface LoginInput {
  readonly mode: LoginMode;
  /** The FQDN the client uses (TLS server name, routing by name). */
  readonly host: string;
  readonly address: string;
  readonly port?: number;
  readonly strict?: boolean;
  readonly user?: string;
  /** Read by the caller from a file or env; never logged. */
  readonly password?: string;
  /** Access token (mode token); never logged. */
  readonly token?: string;
  readonly database?: string;
  readonly ca?: string | readonly string[] | undefined;
  /** Accept any certificate (diagnosis of the path beyond a known certificate problem). Default false. */
  readonly trustServerCertificate?: boolean;
  /** Run `SELECT 1` after a successful login. Default true. */
  readonly query?: boolean;
  /** Minimum interval between dummy logins to one host (ms). Default 60000; 0 disables. */
  readonly dummyIntervalMs?: number;
}

/** The dummy login's user name (the password is random each time). */
export const DUMMY_USER = 'miprobe_dummy_login';

const lastDummy = new Map<string, number>();

/** Forgets the dummy-login history (tests, or an operator's explicit retry). */
export function resetLoginRateLimit(): void {
  lastDummy.clear();
}

/**
 * Network time per phase, from socket events: a round trip runs from the first write of a request to
 * the last data event of its answer; a phase's time is the sum of its round trips (a TLS handshake has
 * two), so what the client computes between them is not counted.
 */
class PhaseClock {
  private readonly legs: Array<Map<LoginPhaseName, number>> = [];
  private writeAt: number | undefined;
  private trip: { leg: number; name: LoginPhaseName; start: number; end: number } | undefined;

  add(leg: number, name: LoginPhaseName, ms: number): void {
    const phases = this.legs[leg] ?? (this.legs[leg] = new Map());
    phases.set(name, (phases.get(name) ?? 0) + Math.max(0, ms));
  }

  /** Watches a socket tedious reads and writes (the TCP socket, or TDS 8's TLS socket). */
  watch(socket: Socket, leg: number, phaseNow: () => LoginPhaseName | undefined): void {
    const write = socket.write;
    socket.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
      clock.onWrite();
      return write.apply(this, args);
    } as Socket['write'];
    const clock = this;
    socket.prependListener('data', () => clock.onData(leg, phaseNow()));
  }

  private onWrite(): void {
    this.close();
    this.writeAt ??= performance.now();
  }

  private onData(leg: number, name: LoginPhaseName | undefined): void {
    const now = performance.now();
    if (this.writeAt !== undefined && name) {
      this.close();
      this.trip = { leg, name, start: this.writeAt, end: now };
      this.writeAt = undefined;
    } else if (this.trip && this.trip.leg === leg && this.trip.name === name) {
      this.trip.end = now; // more bytes of the same answer
    }
  }

  private close(): void {
    if (this.trip) this.add(this.trip.leg, this.trip.name, this.trip.end - this.trip.start);
    this.trip = undefined;
  }

  /** The phases so far; a request still waiting for its answer counts until now (a timeout's wait). */
  finish(leg: number, pending: LoginPhaseName | undefined): LoginPhase[] {
    this.close();
    if (this.writeAt !== undefined && pending) this.add(leg, pending, performance.now() - this.writeAt);
    this.writeAt = undefined;
    return this.legs.flatMap((phases, i) => [...(phases ?? new Map<LoginPhaseName, number>())]
      .map(([name, ms]) => ({ leg: i, name, seconds: Math.round(ms) / 1000 })));
  }
}

const STATE_PHASE: Record<string, LoginPhaseName | undefined> = {
  Connecting: 'connect',
  SentPrelogin: 'prelogin',
  SentTLSSSLNegotiation: 'tls',
  SentLogin7WithStandardLogin: 'login7',
  SentLogin7WithFedauth: 'login7',
  SentLogin7WithNTLMLogin: 'login7',
  SentLogin7Withfedauth: 'login7',
  LoggedInSendingInitialSql: 'initial-sql',
  ReRouting: 'routing',
};

const ERROR_CODES: Record<number, LoginCode> = {
  18456: 'LOGIN_FAILED',
  40532: 'LOGIN_NOT_ROUTED',
  40615: 'LOGIN_CLIENT_IP_DENIED',
  47073: 'LOGIN_PUBLIC_ACCESS_DENIED',
  40914: 'LOGIN_VNET_RULE_MISSING',
};

const CERT_ERROR = /CERT|certificate|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|Hostname\/IP does not match/i;

interface ErrorLike { message?: string; code?: string; cause?: unknown }

function describeError(err: unknown): { code: string | undefined; text: string; causeCode: string | undefined; causeText: string } {
  const e = (err ?? {}) as ErrorLike;
  const cause = (e.cause ?? {}) as ErrorLike;
  const agg = (err as { errors?: ErrorLike[] } | undefined)?.errors;
  const inner = agg && agg.length > 0 ? agg[agg.length - 1] ?? {} : cause;
  return { code: e.code, text: e.message ?? String(err), causeCode: inner.code ?? cause.code, causeText: inner.message ?? cause.message ?? '' };
}

/** The input with what the context gives: the guard, the deadline, cancellation, the resolver for the node's name. */
type LoginOptions = LoginInput & { readonly guard: AddressGuard; readonly timeoutMs: number; readonly signal?: AbortSignal | undefined;
  readonly resolveHost: HostResolver; readonly log: ProbeLog };

/** Logs in once (or skips, per mode); never throws, never returns secrets. */
export const probeLogin: Probe<LoginInput, LoginResult> = (input, ctx) =>
  login({ ...input, guard: ctx.guard, timeoutMs: ctx.timeoutMs, signal: ctx.signal, resolveHost: ctx.resolveHost, log: ctx.log });

async function login(opts: LoginOptions): Promise<LoginResult> {
  const started = performance.now();
  const port = opts.port ?? GATEWAY_PORT;
  const strict = opts.strict === true;
  const base = { mode: opts.mode, host: opts.host, address: opts.address, port, strict };
  const fail = (code: Exclude<LoginCode, 'LOGIN_OK'>, message: string, extra: Partial<LoginCommon> & { failedPhase?: LoginPhaseName; tediousCode?: string } = {}): LoginResult =>
    ({ ...base, seconds: secondsSince(started), phases: [], ...extra, ok: false, code, message });

  if (opts.mode === 'none') return fail('LOGIN_SKIPPED', 'login not requested (--login none)');
  if (opts.mode === 'sql' && (!opts.user || opts.password === undefined)) return fail('LOGIN_SKIPPED', 'sql login needs --user and a password (file or env)');
  if (opts.mode === 'token' && !opts.token) return fail('LOGIN_SKIPPED', 'token login needs an access token (file or env)');
  if (opts.mode === 'dummy') {
    const interval = opts.dummyIntervalMs ?? 60_000;
    const key = opts.host.toLowerCase();
    const last = lastDummy.get(key);
    const now = Date.now();
    if (interval > 0 && last !== undefined && now - last < interval) {
      return fail('LOGIN_RATE_LIMITED', `a dummy login to ${opts.host} ran ${Math.round((now - last) / 1000)} s ago; at most one per ${Math.round(interval / 1000)} s (failed logins trigger protection)`);
    }
    lastDummy.set(key, now);
  }

  const signal = deadlineSignal({ timeoutMs: opts.timeoutMs, signal: opts.signal });
  const clock = new PhaseClock();
  let leg = 0;
  let current: LoginPhaseName | undefined;
  let lastPhase: LoginPhaseName | undefined;
  /** TDS 8: when the TLS handshake on the connected socket started (tedious builds its TLS context first). */
  let strictTlsFrom: number | undefined;
  let encrypted = strict;
  let routing: RoutingTarget | undefined;
  let connects = 0;
  let serverError: { number: number; state: number; message: string } | undefined;

  const onDebug = (line: string): void => {
    if (line.startsWith('connected to ')) {
      // tedious has its socket (TDS 8: TLS is up) and is about to send PRELOGIN: time its exchanges from here.
      const now = performance.now();
      if (strictTlsFrom !== undefined) clock.add(leg, 'tls', now - strictTlsFrom);
      strictTlsFrom = undefined;
      const socket = (conn as { socket?: Socket }).socket;
      const thisLeg = leg;
      if (socket) clock.watch(socket, thisLeg, () => (leg === thisLeg ? current : undefined));
      return;
    }
    const m = /^State change: (\S+) -> (\S+)$/.exec(line);
    if (!m) return;
    if (current) lastPhase = current;
    if (m[1] === 'ReRouting') leg++;
    current = STATE_PHASE[m[2] ?? ''];
  };

  const certificateChecks: CertificateCheck[] = [{ leg: 0, name: opts.host }];
  const connector = async (target: { host: string; port: number }, _lookup: unknown, connSignal: AbortSignal): Promise<Socket> => {
    connects++;
    // The first leg goes to the address diagnosis already resolved; tedious itself only knows the name,
    // which it puts in LOGIN7's ServerName and the SNI, as a real client does (the gateway routes by it).
    let addresses: readonly string[] = connects === 1 ? [opts.address] : [target.host];
    if (connects > 1 && isIP(target.host) === 0) {
      const found = await opts.resolveHost(target.host, { timeoutMs: remainingMs(started, opts.timeoutMs), signal: AbortSignal.any([signal, connSignal]) });
      addresses = found.addresses;
      if (addresses.length === 0) {
        throw Object.assign(new Error(`${target.host}: ${found.error ? `${found.error.code}: ${found.error.message}` : 'no address'}`), { code: 'ENOTFOUND' });
      }
    }
    let lastError = 'no address';
    for (const address of addresses) {
      const r = await tcpConnect(address, target.port, { guard: opts.guard, timeoutMs: remainingMs(started, opts.timeoutMs), signal: AbortSignal.any([signal, connSignal]), keep: true });
      // The handshake as timed at the socket's own event (tcpConnect), not when tedious got to its next state.
      clock.add(leg, 'connect', r.connectSeconds * 1000);
      if (r.ok && r.socket) {
        if (strict) {
          // TLS wraps this socket (adding its 'close' listener) right before it sends ClientHello, after
          // building its context: the handshake is timed from there.
          strictTlsFrom = performance.now();
          const socket = r.socket;
          const onListener = (event: string | symbol): void => {
            if (event !== 'close') return;
            strictTlsFrom = performance.now();
            socket.off('newListener', onListener);
          };
          socket.on('newListener', onListener);
        }
        return r.socket;
      }
      if (!r.ok) lastError = `${r.code}: ${r.message}`;
    }
    const code = lastError.startsWith('TCP_REFUSED') ? 'ECONNREFUSED' : lastError.startsWith('TCP_TIMEOUT') ? 'ETIMEDOUT' : 'ESOCKET';
    throw Object.assign(new Error(`connect to ${target.host}:${target.port} failed (${lastError})`), { code });
  };

  const authentication: tedious.ConnectionAuthentication = opts.mode === 'token'
    ? { type: 'azure-active-directory-access-token', options: { token: opts.token ?? '' } }
    : { type: 'default', options: { userName: opts.mode === 'dummy' ? DUMMY_USER : opts.user ?? '', password: opts.mode === 'dummy' ? randomBytes(18).toString('base64url') : opts.password ?? '' } };
  const ca = trustedCa(opts.ca);
  const conn = new tedious.Connection({
    server: opts.host,
    authentication,
    options: {
      port,
      encrypt: strict ? 'strict' : true,
      trustServerCertificate: opts.trustServerCertificate === true,
      ...(ca ? { cryptoCredentialsDetails: { ca } } : {}),
      connectTimeout: Math.max(100, opts.timeoutMs),
      requestTimeout: Math.max(100, opts.timeoutMs),
      maxRetriesOnTransientErrors: 0,
      connector: connector as unknown as tedious.ConnectionOptions['connector'],
      ...(opts.database ? { database: opts.database } : {}),
      debug: { packet: false, data: false, payload: false, token: false },
    },
  });
  conn.on('debug', onDebug);
  conn.on('secure', (cleartext: TLSSocket) => {
    encrypted = true;
    const cert = cleartext.getPeerCertificate();
    const check = certificateChecks[certificateChecks.length - 1];
    if (check && cert && typeof cert.subject === 'object') {
      certificateChecks[certificateChecks.length - 1] = { ...check, subject: Object.entries(cert.subject).map(([k, v]) => `${k}=${String(v)}`).join(', '),
        ...(cert.subjectaltname ? { subjectAltName: cert.subjectaltname } : {}) };
    }
  });
  // 'rerouting' is emitted by tedious but missing from its typed events.
  (conn as NodeJS.EventEmitter).on('rerouting', () => {
    const r = conn.routingData;
    if (!r) return;
    routing = { server: r.server, port: r.port, ...(r.instance ? { instance: r.instance } : {}) };
    certificateChecks.push({ leg: 1, name: r.server });
    opts.log.debug({ server: r.server, port: r.port }, 'the gateway redirected the login');
    // tedious 19 checks a strict (TDS 8) leg against config.server, its 7.x path against the routed host; drivers
    // (SqlClient, mssql-jdbc) use the routed host in both. Make the strict leg do the same.
    if (strict) conn.config.server = r.server;
  });
  conn.on('errorMessage', (t: { number: number; state: number; message: string }) => { serverError = { number: t.number, state: t.state, message: t.message }; });
  conn.on('error', () => undefined);

  const skipped: string[] = [];
  const connectErr = await captureTediousMessages((line) => {
    opts.log.debug({ tedious: line.slice(0, 200) }, 'tedious said');
    const m = /Unsupported ENVCHANGE type (\S+)/.exec(line);
    skipped.push(m ? `ENVCHANGE type ${m[1] ?? '?'}` : line.slice(0, 200));
  }, () => new Promise<unknown>((resolve) => {
    const onAbort = (): void => {
      resolve(Object.assign(new Error(opts.signal?.aborted ? 'aborted' : `no login within ${opts.timeoutMs} ms`), { code: opts.signal?.aborted ? 'EABORT' : 'ETIMEOUT' }));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    conn.connect((err) => {
      signal.removeEventListener('abort', onAbort);
      resolve(err ?? undefined);
    });
  }));
  // A strict handshake that never finished: its wait until now is the TLS phase.
  if (strictTlsFrom !== undefined) {
    clock.add(leg, 'tls', performance.now() - strictTlsFrom);
    if (current === 'connect') current = 'tls';
    strictTlsFrom = undefined;
  }
  const phases = clock.finish(leg, current);
  if (current) {
    lastPhase = current;
    current = undefined;
  }
  const common = { ...base, phases, encrypted, certificateChecks, ...(routing ? { routing } : {}), ...(skipped.length > 0 ? { skipped } : {}),
    ...(serverError ? { number: serverError.number, state: serverError.state } : {}) };

  if (connectErr === undefined) {
    let query: LoginQuery | undefined;
    if (opts.query !== false) query = await runSelectOne(conn, signal);
    conn.off('debug', onDebug);
    conn.close();
    return { ...common, seconds: secondsSince(started), ok: true, code: 'LOGIN_OK', message: `logged in${routing ? ` via ${routing.server}:${routing.port}` : ''}`, ...(query ? { query } : {}) };
  }
  conn.off('debug', onDebug);
  conn.close();
  const d = describeError(connectErr);
  const seconds = secondsSince(started);
  const failedPhase = lastPhase;
  const extra = { ...common, seconds, ...(failedPhase ? { failedPhase } : {}), ...(d.code ? { tediousCode: d.code } : {}) };
  if (serverError) {
    // What 18456 to a dummy login means (the path to the engine works) is the diagnosis' to say, not the probe's.
    const code = (ERROR_CODES[serverError.number] ?? 'LOGIN_SERVER_ERROR') as Exclude<LoginCode, 'LOGIN_OK'>;
    return { ...extra, ok: false, code, message: `error ${serverError.number}, state ${serverError.state}: ${serverError.message}` };
  }
  const text = `${d.text}${d.causeText && !d.text.includes(d.causeText) ? ` (${d.causeText})` : ''}`;
  if (d.code === 'EABORT') return { ...extra, ok: false, code: 'LOGIN_ABORTED', message: 'aborted' };
  if (CERT_ERROR.test(`${d.causeCode ?? ''} ${text}`)) return { ...extra, ok: false, code: 'LOGIN_CERTIFICATE', message: text };
  if (d.code === 'ETIMEOUT') return { ...extra, ok: false, code: 'LOGIN_TIMEOUT', message: text };
  if (d.code === 'EENCRYPT') return { ...extra, ok: false, code: 'LOGIN_ENCRYPT', message: text };
  if (d.causeCode === 'ECONNRESET' || /ECONNRESET|socket hang up/i.test(text)) return { ...extra, ok: false, code: 'LOGIN_RESET', message: text };
  if (d.code === 'ESOCKET') return { ...extra, ok: false, code: 'LOGIN_SOCKET', message: text };
  return { ...extra, ok: false, code: 'LOGIN_ERROR', message: text };
}

function runSelectOne(conn: tedious.Connection, signal: AbortSignal): Promise<LoginQuery> {
  const started = performance.now();
  return new Promise<LoginQuery>((resolve) => {
    let value: number | undefined;
    let settled = false;
    const finish = (q: LoginQuery): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      resolve(q);
    };
    const onAbort = (): void => finish({ ok: false, seconds: secondsSince(started), message: 'no answer to SELECT 1 before the deadline' });
    signal.addEventListener('abort', onAbort, { once: true });
    const request = new tedious.Request('SELECT 1', (err) => {
      if (err) finish({ ok: false, seconds: secondsSince(started), message: err.message });
      else finish({ ok: value === 1, seconds: secondsSince(started), ...(value !== undefined ? { value } : {}) });
    });
    request.on('row', (columns: Array<{ value: unknown }>) => {
      const v = columns[0]?.value;
      if (typeof v === 'number') value = v;
    });
    try {
      conn.execSqlBatch(request);
    } catch (err) {
      finish({ ok: false, seconds: secondsSince(started), message: String(err) });
    }
  });
}
