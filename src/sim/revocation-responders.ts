// Simulated CRL, OCSP and CA-issuer responders over HTTP on loopback, serving
// a SimPki's current state, with misbehaviours for scenarios (slow, 500,
// huge or endless bodies, bad signatures, stale answers, bytes that are no
// CRL, and what answers in a CA's place on real networks: a captive portal,
// a 403 block page, a 407 proxy, redirects to other hosts or in a loop).
// Requests for the platform's revocation endpoints (a host name in the Host
// header, e.g. crl3.digicert.com, which the simulated DNS points here) get a
// real CRL at any .crl path and an OCSP answer to any POST, so the default
// endpoint list means the same here as on the real hosts.
// REVOCATION_SCENARIOS is the table `miprobe demo` and the tests use.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, isIP } from 'node:net';
import { createSimPki, type IssuedLeaf, type SimPki, type SimPkiOptions } from './pki.js';

export type ResponderBehaviour =
  | 'normal' | 'slow' | 'http-500' | 'huge' | 'endless' | 'bad-signature' | 'stale'
  /** 200 with bytes that are neither a CRL nor an OCSP response (not HTML either). */
  | 'not-der'
  /** 200 text/html: a captive portal's sign-in page. */
  | 'captive-portal'
  /** 403 text/html: an egress filter's block page. */
  | 'block-page'
  /** 407 with Proxy-Authenticate: an explicit proxy in the way. */
  | 'proxy-auth'
  | 'redirect-off-host'
  /** 302 to the very URL asked for. */
  | 'redirect-loop';

/** What the misbehaviours send, so tests can look for it in the evidence. */
export const HOSTILE_BODIES = {
  portal: '<!DOCTYPE html><html><head><title>Guest Wi-Fi</title></head><body>Captive portal: please sign in to continue</body></html>\n',
  blockPage: '<html><body><h1>Access Denied</h1>Blocked by web filter policy (category: uncategorized)</body></html>\n',
  proxyRealm: 'Basic realm="corp-proxy"',
  notDer: 'this is not a certificate revocation list\n',
} as const;

export interface ResponderOptions {
  /** Loopback address to bind. */
  readonly host: string;
  readonly port?: number;
  readonly pki?: SimPki;
  readonly crl?: ResponderBehaviour;
  readonly ocsp?: ResponderBehaviour;
  readonly aia?: ResponderBehaviour;
  /** Behaviour for the platform endpoints' requests (a host name in the Host header). Default normal. */
  readonly platform?: ResponderBehaviour;
  /** Delay of 'slow', ms. Default 1500. */
  readonly slowMs?: number;
  /** Size of 'huge', bytes. Default 32 MiB (streamed, never held in memory). */
  readonly hugeBytes?: number;
  /** Where 'redirect-off-host' points. Default http://127.80.255.254:9/elsewhere. */
  readonly redirectTo?: string;
}

export interface RevocationResponders {
  readonly host: string;
  readonly port: number;
  readonly urls: {
    readonly crl: string; readonly rootCrl: string; readonly ocsp: string;
    readonly caIssuers: string; readonly rootCaIssuers: string;
  };
  /** The URL options for createSimPki pointing at this server. */
  readonly pkiUrls: Pick<SimPkiOptions, 'crlUrl' | 'rootCrlUrl' | 'ocspUrl' | 'caIssuersUrl' | 'rootCaIssuersUrl'>;
  setPki(pki: SimPki): void;
  behaviours: { crl: ResponderBehaviour; ocsp: ResponderBehaviour; aia: ResponderBehaviour; platform: ResponderBehaviour };
  /** Requests seen, newest last (at most 1000 kept). */
  readonly requests: Array<{ method: string; path: string }>;
  close(): Promise<void>;
}

const MAX_REQUEST_BYTES = 64 * 1024;
const DAY = 86_400_000;

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(undefined));
  });
}

/** Starts the responders; `pki` can be given later with setPki (its certificates need these URLs first). */
export async function startRevocationResponders(opts: ResponderOptions): Promise<RevocationResponders> {
  let pki = opts.pki;
  const behaviours = { crl: opts.crl ?? 'normal', ocsp: opts.ocsp ?? 'normal', aia: opts.aia ?? 'normal', platform: opts.platform ?? 'normal' };
  const requests: Array<{ method: string; path: string }> = [];
  const timers = new Set<NodeJS.Timeout>();
  const slowMs = opts.slowMs ?? 1500;
  const hugeBytes = opts.hugeBytes ?? 32 * 1024 * 1024;
  const redirectTo = opts.redirectTo ?? 'http://127.80.255.254:9/elsewhere';

  const stream = (res: ServerResponse, limit: number): void => {
    res.writeHead(200, { 'content-type': 'application/pkix-crl' });
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let sent = 0;
    const pump = (): void => {
      while (sent < limit && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    res.on('close', () => { sent = limit; });
    pump();
  };

  const misbehave = async (b: ResponderBehaviour, req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    switch (b) {
      case 'slow':
        await new Promise<void>((r) => {
          const t = setTimeout(() => { timers.delete(t); r(); }, slowMs);
          timers.add(t);
          res.on('close', () => { clearTimeout(t); timers.delete(t); r(); });
        });
        return res.destroyed;
      case 'http-500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
        return true;
      case 'huge':
        stream(res, hugeBytes);
        return true;
      case 'endless':
        stream(res, Number.POSITIVE_INFINITY);
        return true;
      case 'not-der':
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(HOSTILE_BODIES.notDer);
        return true;
      case 'captive-portal':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HOSTILE_BODIES.portal);
        return true;
      case 'block-page':
        res.writeHead(403, { 'content-type': 'text/html' }).end(HOSTILE_BODIES.blockPage);
        return true;
      case 'proxy-auth':
        res.writeHead(407, { 'proxy-authenticate': HOSTILE_BODIES.proxyRealm, 'content-type': 'text/html' })
          .end('<html><body>Proxy Authentication Required</body></html>\n');
        return true;
      case 'redirect-off-host':
        res.writeHead(302, { location: redirectTo }).end();
        return true;
      case 'redirect-loop':
        res.writeHead(302, { location: req.url ?? '/' }).end();
        return true;
      default:
        return false;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    requests.push({ method: req.method ?? '', path: path.slice(0, 200) });
    if (requests.length > 1000) requests.shift();
    if (!pki) {
      res.writeHead(503).end();
      return;
    }
    const stale = { thisUpdate: new Date(pki.now().getTime() - 8 * DAY), nextUpdate: new Date(pki.now().getTime() - DAY) };
    if (isPlatformRequest(req)) {
      await servePlatform(pki, req, res, path);
      return;
    }
    if (path === '/crl/issuing.crl' || path === '/crl/root.crl') {
      if (await misbehave(behaviours.crl, req, res)) return;
      const which = path === '/crl/root.crl' ? 'root' : 'intermediate';
      const body = await pki.crl(which, {
        ...(behaviours.crl === 'bad-signature' ? { badSignature: true } : {}),
        ...(behaviours.crl === 'stale' ? stale : {}),
      });
      res.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': body.length }).end(body);
      return;
    }
    if (path === '/aia/issuing.cer' || path === '/aia/root.cer') {
      if (await misbehave(behaviours.aia, req, res)) return;
      const body = path === '/aia/root.cer' ? pki.root.der : pki.intermediate.der;
      res.writeHead(200, { 'content-type': 'application/pkix-cert', 'content-length': body.length }).end(body);
      return;
    }
    if (path === '/ocsp' || path.startsWith('/ocsp/')) {
      let der: Buffer | undefined;
      if (req.method === 'POST') der = await readBody(req);
      else if (req.method === 'GET' && path.startsWith('/ocsp/')) {
        try {
          der = Buffer.from(decodeURIComponent(path.slice('/ocsp/'.length)), 'base64');
        } catch {
          der = undefined;
        }
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('OCSP responder\n');
        return;
      }
      if (await misbehave(behaviours.ocsp, req, res)) return;
      if (!der) {
        res.writeHead(413).end();
        return;
      }
      const body = await pki.ocspRespond(der, { unknownIssuer: 'unauthorized',
        ...(behaviours.ocsp === 'bad-signature' ? { badSignature: true } : {}),
        ...(behaviours.ocsp === 'stale' ? stale : {}),
      });
      res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': body.length }).end(body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  };

  /** The platform endpoints come with their real host names; the chain's own URLs with this server's address. */
  const isPlatformRequest = (req: IncomingMessage): boolean => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    return host !== '' && isIP(host) === 0;
  };

  /** A real CRL at any .crl path, an OCSP answer to any POST (RFC 6960 A.1), as the CAs' hosts do. */
  const servePlatform = async (p: SimPki, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (req.method === 'POST') {
      const der = await readBody(req);
      if (await misbehave(behaviours.platform, req, res)) return;
      if (!der) {
        res.writeHead(413).end();
        return;
      }
      const body = await p.ocspRespond(der, { unknownIssuer: 'unauthorized' });
      res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': body.length }).end(body);
      return;
    }
    if (await misbehave(behaviours.platform, req, res)) return;
    if (req.method === 'GET' && path.toLowerCase().endsWith('.crl')) {
      const body = await p.crl('root');
      res.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': body.length }).end(body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const base = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  const urls = {
    crl: `${base}/crl/issuing.crl`, rootCrl: `${base}/crl/root.crl`, ocsp: `${base}/ocsp`,
    caIssuers: `${base}/aia/issuing.cer`, rootCaIssuers: `${base}/aia/root.cer`,
  };
  return {
    host: opts.host, port, urls, behaviours, requests,
    pkiUrls: { crlUrl: urls.crl, rootCrlUrl: urls.rootCrl, ocspUrl: urls.ocsp, caIssuersUrl: urls.caIssuers, rootCaIssuersUrl: urls.rootCaIssuers },
    setPki: (p) => { pki = p; },
    close: () => new Promise<void>((resolve) => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A URL on `host` whose port has nothing listening (bound, then released). */
export async function deadUrl(host: string, path = '/dead'): Promise<string> {
  const srv = createNetServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, host, () => resolve());
  });
  const address = srv.address();
  const port = typeof address === 'object' && address ? address.port : 9;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return `http://${host}:${port}${path}`;
}

export interface ScenarioInstance {
  readonly pki: SimPki;
  readonly responders: RevocationResponders;
  /** The certificate the simulated gateway serves. */
  readonly leaf: IssuedLeaf;
  /** What the gateway sends: leaf then intermediate (or the leaf alone when the scenario says so). */
  readonly chainPem: readonly string[];
  /** Suggested per-check timeout, ms. */
  readonly timeoutMs: number;
  /** No way out to the revocation hosts: the platform endpoints must not be reachable either (see startSimNetwork). */
  readonly egressBlocked?: boolean;
  close(): Promise<void>;
}

export interface ScenarioContext {
  /** Loopback address the responders bind. */
  readonly host: string;
  /** Names put in the leaf. Default ['gateway.sim.database.windows.net']. */
  readonly hostnames?: readonly string[];
}

export interface RevocationScenario {
  readonly name: string;
  readonly description: string;
  /** Finding ids the diagnosis is expected to raise (as a set). */
  readonly expected: readonly string[];
  setup(ctx: ScenarioContext): Promise<ScenarioInstance>;
}

interface Recipe {
  readonly crl?: ResponderBehaviour;
  readonly ocsp?: ResponderBehaviour;
  readonly aia?: ResponderBehaviour;
  readonly platform?: ResponderBehaviour;
  /** Every revocation URL (CRL, OCSP of leaf and intermediate; the platform endpoints) leads nowhere: a locked-down subnet. */
  readonly egressBlocked?: boolean;
  readonly leafCrl?: 'dead' | 'none' | 'ldap';
  readonly leafOcsp?: 'dead' | 'none';
  readonly revoke?: boolean;
  readonly noInfo?: boolean;
  readonly leafOnly?: boolean;
  readonly slowMs?: number;
  readonly timeoutMs?: number;
}

function scenario(name: string, description: string, expected: readonly string[], r: Recipe): RevocationScenario {
  return {
    name, description, expected,
    async setup(ctx) {
      const responders = await startRevocationResponders({
        host: ctx.host, ...(r.crl ? { crl: r.crl } : {}), ...(r.ocsp ? { ocsp: r.ocsp } : {}), ...(r.aia ? { aia: r.aia } : {}),
        ...(r.platform ? { platform: r.platform } : {}), slowMs: r.slowMs ?? 1500, hugeBytes: 32 * 1024 * 1024,
      });
      try {
        const blocked = r.egressBlocked ? await deadUrl(ctx.host) : undefined;
        const urls = blocked
          ? { ...responders.pkiUrls, crlUrl: `${blocked}/issuing.crl`, rootCrlUrl: `${blocked}/root.crl`, ocspUrl: `${blocked}/ocsp` }
          : responders.pkiUrls;
        const pki = await createSimPki({ ...urls, name: `sim ${name}` });
        responders.setPki(pki);
        const dead = r.leafCrl === 'dead' || r.leafOcsp === 'dead' ? await deadUrl(ctx.host) : undefined;
        const crlUrls = r.leafCrl === 'dead' ? [`${dead}/issuing.crl`] : r.leafCrl === 'none' ? []
          : r.leafCrl === 'ldap' ? ['ldap://ldap.sim.invalid/CN=Issuing,O=miprobe?certificateRevocationList'] : undefined;
        const ocspUrls = r.leafOcsp === 'dead' ? [`${dead}/ocsp`] : r.leafOcsp === 'none' ? [] : undefined;
        const leaf = await pki.issueLeaf({
          hostnames: ctx.hostnames ?? ['gateway.sim.database.windows.net'], withRevocationInfo: !r.noInfo,
          ...(crlUrls ? { crlUrls } : {}), ...(ocspUrls ? { ocspUrls } : {}),
        });
        if (r.revoke) pki.revoke(leaf.serialHex, 'keyCompromise');
        return {
          pki, responders, leaf, chainPem: r.leafOnly ? [leaf.certPem] : [leaf.certPem, pki.intermediatePem],
          timeoutMs: r.timeoutMs ?? 5000, ...(r.egressBlocked ? { egressBlocked: true } : {}), close: () => responders.close(),
        };
      } catch (err) {
        await responders.close();
        throw err;
      }
    },
  };
}

/** One misbehaviour for every HTTP request on the way out, as a captive portal or proxy does. */
const everywhere = (b: ResponderBehaviour): Recipe => ({ crl: b, ocsp: b, aia: b, platform: b });

export const REVOCATION_SCENARIOS: readonly RevocationScenario[] = [
  scenario('good', 'CRL and OCSP answer, signed and fresh; nothing is revoked', [], {}),
  scenario('revoked-crl', 'the gateway certificate is on the issuing CA\'s CRL (the leaf lists only a CRL)', ['REV-001'],
    { revoke: true, leafOcsp: 'none' }),
  scenario('revoked-ocsp', 'the OCSP responder says the gateway certificate is revoked (the leaf lists only OCSP)', ['REV-001'],
    { revoke: true, leafCrl: 'none' }),
  scenario('crl-unreachable', 'the leaf\'s CRL distribution point does not accept connections', ['REV-002'], { leafCrl: 'dead' }),
  scenario('ocsp-unreachable', 'the leaf\'s OCSP responder does not accept connections', ['REV-002'], { leafOcsp: 'dead' }),
  scenario('no-egress', 'a locked-down subnet: no revocation host (the chain\'s CRL and OCSP, the platform endpoints) accepts connections, '
    + 'yet the connection works: a risk for clients that check revocation, not a break', ['REV-002'], { egressBlocked: true }),
  scenario('responder-slow', 'the OCSP responder takes 1.5 s to answer (clients stall in the TLS handshake)', ['REV-009'],
    { ocsp: 'slow', slowMs: 1500 }),
  scenario('responder-timeout', 'the CRL server accepts the connection but sends no answer before the deadline', ['REV-017'],
    { crl: 'slow', slowMs: 4000, timeoutMs: 1500 }),
  scenario('http-500', 'the CRL server answers HTTP 500', ['REV-003'], { crl: 'http-500' }),
  scenario('huge-body', 'the CRL server sends 32 MiB (more than the 8 MiB limit)', ['REV-003'], { crl: 'huge' }),
  scenario('bad-signature', 'the CRL and the OCSP answers are signed by a key that is not the CA\'s', ['REV-005'],
    { crl: 'bad-signature', ocsp: 'bad-signature' }),
  scenario('stale', 'the CRL and OCSP answers are past their nextUpdate', ['REV-004'], { crl: 'stale', ocsp: 'stale' }),
  scenario('no-revocation-info', 'the gateway certificate has no CRL distribution point and no OCSP URL', ['REV-006'], { noInfo: true }),
  scenario('unsupported-scheme', 'the leaf\'s only CRL distribution point is ldap://', ['REV-007'], { leafCrl: 'ldap' }),
  scenario('missing-intermediate', 'the gateway sends only its leaf; the intermediate is fetched from the CA-issuers URL', ['REV-008'],
    { leafOnly: true }),
  scenario('hostile-endless', 'the OCSP responder streams an endless body', ['REV-003'], { ocsp: 'endless' }),
  scenario('hostile-garbage', 'the CRL URL answers 200 with bytes that are not a CRL', ['REV-003'], { crl: 'not-der' }),
  scenario('hostile-redirect', 'the CRL URL redirects to another host', ['REV-015'], { crl: 'redirect-off-host' }),
  scenario('hostile-redirect-loop', 'the CRL URL redirects to itself, forever', ['REV-015'], { crl: 'redirect-loop' }),
  scenario('captive-portal', 'a captive portal answers every revocation request (CRL, OCSP, platform endpoints) with its sign-in page', ['REV-012'],
    everywhere('captive-portal')),
  scenario('block-page', 'an egress filter answers every revocation request with a 403 block page', ['REV-013'], everywhere('block-page')),
  scenario('proxy-407', 'an explicit proxy answers every revocation request with 407 Proxy Authentication Required', ['REV-014'],
    everywhere('proxy-auth')),
];
