// The agent's HTTP(S) server: routing, basic auth, extra headers, and the
// limits that protect it from slow or hostile clients (header and request
// timeouts, header size, idle sockets, GET/HEAD only, no request bodies read).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { BasicAuth, type WebConfig } from './web-config.js';

export interface Reply {
  readonly status: number;
  /** Text, or bytes already encoded (the metrics exposition). */
  readonly body: string | Buffer;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Routes {
  /** Path -> handler; the handler gets the query and a signal aborted when the client goes away. */
  readonly [path: string]: (req: { query: URLSearchParams; headers: IncomingMessage['headers']; signal: AbortSignal }) => Promise<Reply> | Reply;
}

export interface ServerLimits {
  /** Whole request head must arrive within this (slowloris). */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Idle socket timeout (also bounds a client that stops reading a response). */
  readonly idleTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxHeaderBytes: number;
}

export const DEFAULT_LIMITS: ServerLimits = { headersTimeoutMs: 5000, requestTimeoutMs: 10_000, idleTimeoutMs: 60_000, keepAliveTimeoutMs: 5000, maxHeaderBytes: 16 * 1024 };

/**
 * Paths served without basic auth or a required (unverified) client certificate: liveness and
 * readiness must work for a container health check or the kubelet, and say nothing but ok/ready.
 */
const OPEN_PATHS = new Set(['/healthz', '/readyz']);

export interface AgentServer {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** Base URL, e.g. http://127.0.0.1:9433 */
  readonly url: string;
  /** Swaps auth, headers and (when TLS stays on) certificates; returns a warning when a restart is needed. */
  setWebConfig(config: WebConfig): string | undefined;
  close(graceMs: number): Promise<void>;
}

export function parseListen(text: string): { host?: string | undefined; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new Error(`listen address "${text}": expected host:port`);
  const host = m[1] ?? (m[2] === '' ? undefined : m[2]);
  return { host, port };
}

export async function startServer(opts: {
  listen: string; webConfig: WebConfig; routes: Routes; limits?: Partial<ServerLimits>; onError?: (err: Error) => void;
}): Promise<AgentServer> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  let web = opts.webConfig;
  let auth = new BasicAuth(web.users);
  const sockets = new Set<Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const send = (reply: Reply): void => {
      if (res.headersSent || res.destroyed) return;
      const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
      res.writeHead(reply.status, { ...web.headers, ...reply.headers, 'Content-Type': reply.contentType, 'Content-Length': body.length,
        'X-Content-Type-Options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const text = (status: number, body: string, headers?: Record<string, string>): void => send({ status, body: `${body}\n`, contentType: 'text/plain; charset=utf-8', ...(headers ? { headers } : {}) });

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // The body is never read; close the connection rather than drain it.
      res.shouldKeepAlive = false;
      return text(405, 'method not allowed: only GET and HEAD', { Allow: 'GET, HEAD', Connection: 'close' });
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://agent');
    } catch {
      return text(400, 'bad request URL');
    }
    if (web.tls?.requireCert && !OPEN_PATHS.has(url.pathname)) {
      const cert = (req.socket as TLSSocket).getPeerCertificate?.();
      if (!cert || Object.keys(cert).length === 0) return text(403, 'a client certificate is required');
    }
    if (web.tls?.requestCert && !web.tls.rejectUnauthorized && web.tls.ca) {
      // VerifyClientCertIfGiven: a certificate that was sent must verify.
      const s = req.socket as TLSSocket;
      const cert = s.getPeerCertificate?.();
      if (cert && Object.keys(cert).length > 0 && !s.authorized) return text(403, 'the client certificate did not verify');
    }
    if (!OPEN_PATHS.has(url.pathname) && auth.enabled && !(await auth.check(req.headers.authorization))) {
      return text(401, 'unauthorized', { 'WWW-Authenticate': 'Basic realm="miprobe"' });
    }
    const route = opts.routes[url.pathname];
    if (!route) return text(404, `not found: try /metrics, /probe?target=<fqdn>&module=<check>, /healthz, /readyz, /api/v1/status or /`);
    const controller = new AbortController();
    res.once('close', () => { if (!res.writableFinished) controller.abort(new Error('client went away')); });
    send(await route({ query: url.searchParams, headers: req.headers, signal: controller.signal }));
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: Error) => {
      opts.onError?.(err);
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('internal error\n');
      } else res.destroy();
    });
  };

  const common = { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxHeaderSize: limits.maxHeaderBytes, connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs) };
  const server: Server = web.tls
    ? createHttpsServer({ ...common, ...web.tls }, listener)
    : createHttpServer(common, listener);
  server.setTimeout(limits.idleTimeoutMs, (socket) => socket.destroy());
  server.maxHeadersCount = 100;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('clientError', (err, socket) => {
    // Malformed requests, oversized headers, timeouts: answer if possible, then drop.
    if (socket.writable && !(err as NodeJS.ErrnoException).code?.startsWith('ERR_HTTP_REQUEST_TIMEOUT')) {
      const status = (err as NodeJS.ErrnoException).code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      socket.end(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  });

  const { host, port } = parseListen(opts.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => opts.onError?.(err));
  const addr = server.address() as AddressInfo;
  const tls = web.tls !== undefined;
  const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  return {
    host: addr.address, port: addr.port, tls, url: `${tls ? 'https' : 'http'}://${hostForUrl}:${addr.port}`,
    setWebConfig(next) {
      let warning: string | undefined;
      if ((next.tls !== undefined) !== tls) {
        warning = `TLS was turned ${next.tls ? 'on' : 'off'} in the web config: restart the agent for it to take effect; the rest of the web config is applied`;
        next = { ...next, tls: web.tls };
      } else if (next.tls && 'setSecureContext' in server) {
        const tlsServer = server as unknown as { setSecureContext(o: object): void; requestCert: boolean; rejectUnauthorized: boolean };
        tlsServer.setSecureContext(next.tls);
        // setSecureContext() leaves client authentication as it was; each new connection reads these two.
        tlsServer.requestCert = next.tls.requestCert;
        tlsServer.rejectUnauthorized = next.tls.rejectUnauthorized;
      }
      web = next;
      auth = new BasicAuth(next.users);
      // Idle keep-alive connections were authenticated under the old settings: clients reconnect under the new.
      server.closeIdleConnections();
      return warning;
    },
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => { for (const s of sockets) s.destroy(); }, graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
