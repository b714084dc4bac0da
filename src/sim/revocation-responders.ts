// Simulated CRL, OCSP and CA-issuer responders over HTTP on loopback, serving
// a SimPki's current state, with misbehaviours for scenarios (slow, 500,
// huge or endless bodies, bad signatures, stale answers, garbage, redirects
// to other hosts). REVOCATION_SCENARIOS is the table `miprobe demo` and the
// tests use.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { createSimPki, type IssuedLeaf, type SimPki, type SimPkiOptions } from './pki.js';

export type ResponderBehaviour =
  | 'normal' | 'slow' | 'http-500' | 'huge' | 'endless' | 'bad-signature' | 'stale' | 'garbage' | 'redirect-off-host';

export interface ResponderOptions {
  /** Loopback address to bind. */
  readonly host: string;
  readonly port?: number;
  readonly pki?: SimPki;
  readonly crl?: ResponderBehaviour;
  readonly ocsp?: ResponderBehaviour;
  readonly aia?: ResponderBehaviour;
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
  behaviours: { crl: ResponderBehaviour; ocsp: ResponderBehaviour; aia: ResponderBehaviour };
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
  const behaviours = { crl: opts.crl ?? 'normal', ocsp: opts.ocsp ?? 'normal', aia: opts.aia ?? 'normal' };
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

  const misbehave = async (b: ResponderBehaviour, res: ServerResponse): Promise<boolean> => {
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
      case 'garbage':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Captive portal: please sign in</body></html>\n');
        return true;
      case 'redirect-off-host':
        res.writeHead(302, { location: redirectTo }).end();
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
    if (path === '/crl/issuing.crl' || path === '/crl/root.crl') {
      if (await misbehave(behaviours.crl, res)) return;
      const which = path === '/crl/root.crl' ? 'root' : 'intermediate';
      const body = await pki.crl(which, {
        ...(behaviours.crl === 'bad-signature' ? { badSignature: true } : {}),
        ...(behaviours.crl === 'stale' ? stale : {}),
      });
      res.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': body.length }).end(body);
      return;
    }
    if (path === '/aia/issuing.cer' || path === '/aia/root.cer') {
      if (await misbehave(behaviours.aia, res)) return;
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
      if (await misbehave(behaviours.ocsp, res)) return;
      if (!der) {
        res.writeHead(413).end();
        return;
      }
      const body = await pki.ocspRespond(der, {
        ...(behaviours.ocsp === 'bad-signature' ? { badSignature: true } : {}),
        ...(behaviours.ocsp === 'stale' ? stale : {}),
      });
      res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': body.length }).end(body);
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
        slowMs: r.slowMs ?? 1500, hugeBytes: 32 * 1024 * 1024,
      });
      try {
        const pki = await createSimPki({ ...responders.pkiUrls, name: `sim ${name}` });
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
          timeoutMs: r.timeoutMs ?? 5000, close: () => responders.close(),
        };
      } catch (err) {
        await responders.close();
        throw err;
      }
    },
  };
}

export const REVOCATION_SCENARIOS: readonly RevocationScenario[] = [
  scenario('good', 'CRL and OCSP answer, signed and fresh; nothing is revoked', [], {}),
  scenario('revoked-crl', 'the gateway certificate is on the issuing CA\'s CRL (the leaf lists only a CRL)', ['REV-001'],
    { revoke: true, leafOcsp: 'none' }),
  scenario('revoked-ocsp', 'the OCSP responder says the gateway certificate is revoked (the leaf lists only OCSP)', ['REV-001'],
    { revoke: true, leafCrl: 'none' }),
  scenario('crl-unreachable', 'the leaf\'s CRL distribution point does not accept connections', ['REV-002'], { leafCrl: 'dead' }),
  scenario('ocsp-unreachable', 'the leaf\'s OCSP responder does not accept connections', ['REV-002'], { leafOcsp: 'dead' }),
  scenario('responder-slow', 'the OCSP responder takes 1.5 s to answer (clients stall in the TLS handshake)', ['REV-009'],
    { ocsp: 'slow', slowMs: 1500 }),
  scenario('responder-timeout', 'the CRL server answers after the deadline', ['REV-002'],
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
  scenario('hostile-garbage', 'the CRL URL answers 200 text/html (a captive portal), not a CRL', ['REV-003'], { crl: 'garbage' }),
  scenario('hostile-redirect', 'the CRL URL redirects to another host', ['REV-003'], { crl: 'redirect-off-host' }),
];
