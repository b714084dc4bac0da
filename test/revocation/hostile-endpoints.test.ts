// What answers a revocation URL on real networks is often not the CA: hostile
// and deceptive HTTP peers over real sockets on loopback (127.81.1.0/24), each
// checked for the exact finding and the evidence a user needs to recognise it.
import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import { OCSPRequest } from '@peculiar/asn1-ocsp';
import { AddressGuard } from '../../src/net/guard.js';
import { checkRevocationEndpoints, type EndpointReachability } from '../../src/net/pki/revocation.js';
import { revocationChecks, revocationFindings } from '../../src/diagnosis/revocation-rules.js';
import { createSimPki } from '../../src/sim/pki.js';
import { HOSTILE_BODIES } from '../../src/sim/revocation-responders.js';
import type { Finding } from '../../src/diagnosis/finding.js';

const HOST = '127.81.1.10';
const guard = AddressGuard.fromList('127.81.1.0/24');
const noDns = async (): Promise<{ addresses: string[] }> => ({ addresses: [] });

const pki = await createSimPki({ name: 'hostile peers' });
const ocspRequests: Array<{ method: string; type: string; decodes: boolean }> = [];

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** One hostile HTTP server, a route per misbehaviour. */
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const path = req.url ?? '/';
  const route = async (): Promise<void> => {
    switch (path) {
      case '/good.crl': {
        const crl = await pki.crl('intermediate');
        res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crl);
        return;
      }
      case '/good-pem.crl': {
        const crl = await pki.crl('intermediate');
        res.writeHead(200, { 'content-type': 'application/x-pem-file' })
          .end(`-----BEGIN X509 CRL-----\n${crl.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END X509 CRL-----\n`);
        return;
      }
      case '/mislabelled.crl': {
        const crl = await pki.crl('intermediate');
        res.writeHead(200, { 'content-type': 'text/html' }).end(crl);
        return;
      }
      case '/endless-portal.crl': {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.write(HOSTILE_BODIES.portal);
        const filler = Buffer.from('<p>sign in</p>'.repeat(1000));
        const more = (): void => {
          while (!res.destroyed && res.write(filler)) { /* until the socket pushes back */ }
          if (!res.destroyed) res.once('drain', more);
        };
        more();
        return;
      }
      case '/endless.crl': {
        res.writeHead(200, { 'content-type': 'application/pkix-crl' });
        const chunk = Buffer.alloc(16 * 1024, 0x30);
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk)) { /* until the socket pushes back */ }
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
        return;
      }
      case '/loop.crl':
        res.writeHead(302, { location: '/loop.crl' }).end();
        return;
      case '/two-step.crl':
        res.writeHead(302, { location: '/two-step-b.crl' }).end();
        return;
      case '/two-step-b.crl':
        res.writeHead(301, { location: '/two-step.crl' }).end();
        return;
      case '/elsewhere.crl':
        res.writeHead(302, { location: 'http://127.81.1.99:9/portal/login?orig=crl' }).end();
        return;
      case '/upgrade.crl':
        res.writeHead(301, { location: `https://${HOST}:${port}/upgrade.crl` }).end();
        return;
      case '/portal.crl':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HOSTILE_BODIES.portal);
        return;
      case '/portal-untyped.crl':
        // A portal that lies about its type: found by its first bytes.
        res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(`\n  ${HOSTILE_BODIES.portal}`);
        return;
      case '/blocked.crl':
        res.writeHead(403, { 'content-type': 'text/html' }).end(HOSTILE_BODIES.blockPage);
        return;
      case '/proxy.crl':
        res.writeHead(407, { 'proxy-authenticate': HOSTILE_BODIES.proxyRealm, 'content-type': 'text/html' })
          .end('<html><body>Proxy Authentication Required</body></html>');
        return;
      case '/slow.crl':
        // Accepts, reads the request, never answers.
        return;
      case '/not-a.crl':
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('\u001b[31mthis is not a CRL\u001b[0m\r\nsecond line');
        return;
      case '/status/plain':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
        return;
      case '/status/list': {
        const crl = await pki.crl('intermediate');
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(crl);
        return;
      }
      case '/ocsp-garbage':
        await readAll(req);
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(Buffer.from([0x30, 0x82, 0x7f, 0x00, 0xde, 0xad, 0xbe, 0xef]));
        return;
      case '/ocsp-trylater':
        await readAll(req);
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x03]));
        return;
      case '/ocsp':
      case '/ocsp-unknown': {
        const body = await readAll(req);
        let decodes = true;
        try {
          AsnConvert.parse(body, OCSPRequest);
        } catch {
          decodes = false;
        }
        ocspRequests.push({ method: req.method ?? '', type: String(req.headers['content-type'] ?? ''), decodes });
        const answer = await pki.ocspRespond(body, path === '/ocsp' ? { unknownIssuer: 'unauthorized' } : {});
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(answer);
        return;
      }
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  };
  route().catch(() => res.destroy());
});
await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
const port = (server.address() as AddressInfo).port;
const base = `http://${HOST}:${port}`;
t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));

const urls = {
  goodDer: `${base}/good.crl`, goodPem: `${base}/good-pem.crl`, mislabelled: `${base}/mislabelled.crl`, endlessPortal: `${base}/endless-portal.crl`, endless: `${base}/endless.crl`, loop: `${base}/loop.crl`,
  twoStep: `${base}/two-step.crl`, elsewhere: `${base}/elsewhere.crl`, upgrade: `${base}/upgrade.crl`, portal: `${base}/portal.crl`, portalUntyped: `${base}/portal-untyped.crl`,
  blocked: `${base}/blocked.crl`, proxy: `${base}/proxy.crl`, slow: `${base}/slow.crl`, notCrl: `${base}/not-a.crl`,
  untypedPlain: `${base}/status/plain`, untypedCrl: `${base}/status/list`,
  ocspGarbage: `${base}/ocsp-garbage`, ocspTryLater: `${base}/ocsp-trylater`, ocsp: `${base}/ocsp`, ocspUnknown: `${base}/ocsp-unknown`,
};

const started = performance.now();
const results = await checkRevocationEndpoints(Object.values(urls), { resolve: noDns, guard, timeoutMs: 1500, maxCrlBytes: 256 * 1024 });
const elapsed = performance.now() - started;
const findings = revocationFindings({ chains: [], endpoints: results });
const checks = revocationChecks({ chains: [], endpoints: results });
const byUrl = (url: string): EndpointReachability => {
  const r = results.find((x) => x.url === url);
  if (!r) throw new Error(`no result for ${url}`);
  return r;
};
const findingFor = (url: string): Finding[] => findings.filter((f) => f.evidence.includes(`${url} (`));

t.test('all URLs are probed concurrently, within the deadline', async (t) => {
  t.equal(results.length, Object.keys(urls).length);
  t.ok(elapsed < 1500 + 1500, `bounded by the per-URL deadline, not their sum (${Math.round(elapsed)} ms)`);
  t.same(JSON.parse(JSON.stringify(results)), results, 'the results are JSON as they are');
  t.notOk(findings.some((f) => f.severity === 'critical'), 'nothing here breaks the connection from this host: no critical');
});

t.test('a CRL URL that answers a CRL (DER or PEM) proves the service', async (t) => {
  for (const url of [urls.goodDer, urls.goodPem, urls.mislabelled]) {
    const r = byUrl(url);
    t.equal(r.kind, 'crl');
    t.equal(r.ok, true, url);
    t.match(r.service, { kind: 'crl', issuer: pki.intermediate.cert.subject, freshness: 'fresh' });
    t.same(findingFor(url), [], 'no finding');
    t.match(checks.find((c) => c.name === `Revocation endpoint ${url}`), { status: 'pass', detail: /a CRL of "CN=hostile peers Issuing CA 01/ });
  }
});

t.test('an OCSP URL is asked a real OCSP request; an OCSP response proves the responder', async (t) => {
  const r = byUrl(urls.ocsp);
  t.equal(r.kind, 'ocsp');
  t.equal(r.ok, true);
  t.same(r.service, { kind: 'ocsp', responseStatus: 'unauthorized' }, 'RFC 6960 2.3: not authoritative for this issuer');
  const unknown = byUrl(urls.ocspUnknown);
  t.same(unknown.service, { kind: 'ocsp', responseStatus: 'successful' }, 'RFC 6960 2.2: a signed "unknown" status');
  t.equal(ocspRequests.length, 2);
  t.ok(ocspRequests.every((q) => q.method === 'POST' && q.type === 'application/ocsp-request' && q.decodes),
    'POSTed as application/ocsp-request, and it decodes as an OCSPRequest');
  t.same(findingFor(urls.ocsp), []);
  t.match(checks.find((c) => c.name === `Revocation endpoint ${urls.ocsp}`)?.detail, /an OCSP response \(unauthorized\): an OCSP responder answers/);
});

t.test('endless body: cut at the cap, REV-003', async (t) => {
  const r = byUrl(urls.endless);
  t.equal(r.ok, false);
  t.equal(r.error?.code, 'HTTP_TOO_LARGE');
  t.equal(r.http?.bytes, 256 * 1024, 'reading stopped at the cap');
  const [f] = findingFor(urls.endless);
  t.match(f, { id: 'REV-003', severity: 'warning' });
  t.match(f?.evidence, /HTTP_TOO_LARGE: the body exceeds the limit of 262144 bytes \(an endless or oversized answer\)/);
});

t.test('302 to itself: a loop, with the hops', async (t) => {
  const r = byUrl(urls.loop);
  t.equal(r.error?.code, 'HTTP_REDIRECT_LOOP');
  t.same(r.answer?.redirects, [`302 ${urls.loop} -> ${urls.loop}`]);
  const [f] = findingFor(urls.loop);
  t.match(f, { id: 'REV-015', severity: 'warning' });
  t.match(f?.evidence, `HTTP_REDIRECT_LOOP: redirect loop: 302 ${urls.loop} -> ${urls.loop}`);
  const two = byUrl(urls.twoStep);
  t.equal(two.error?.code, 'HTTP_REDIRECT_LOOP');
  t.same(two.answer?.redirects, [`302 ${urls.twoStep} -> ${base}/two-step-b.crl`, `301 ${base}/two-step-b.crl -> ${urls.twoStep}`]);
});

t.test('302 to another host: not followed, the target named', async (t) => {
  const r = byUrl(urls.elsewhere);
  t.equal(r.error?.code, 'HTTP_REDIRECT_OFF_HOST');
  t.same(r.answer?.redirects, [`302 ${urls.elsewhere} -> http://127.81.1.99:9/portal/login?orig=crl`]);
  const [f] = findingFor(urls.elsewhere);
  t.match(f, { id: 'REV-015', severity: 'warning' });
  t.match(f?.evidence, 'redirect to another host (http://127.81.1.99:9), not followed');
  const upgrade = byUrl(urls.upgrade);
  t.equal(upgrade.error?.code, 'HTTP_REDIRECT_OFF_HOST');
  t.match(upgrade.error?.message, `HTTP 301 redirect to another scheme or port (https://${HOST}:${port}), not followed`);
  t.equal(upgrade.tls, undefined, 'not followed: no TLS was attempted');
});

t.test('200 text/html: a captive portal, REV-012 with the page quoted', async (t) => {
  for (const url of [urls.portal, urls.portalUntyped]) {
    const r = byUrl(url);
    t.equal(r.error?.code, 'HTTP_HTML', url);
    t.match(r.answer, { status: 200, firstBytes: /^<!DOCTYPE html><html><head><title>Guest Wi-Fi<\/title>/ });
  }
  t.equal(byUrl(urls.portal).answer?.contentType, 'text/html; charset=utf-8');
  const endless = byUrl(urls.endlessPortal);
  t.equal(endless.error?.code, 'HTTP_HTML', 'an endless portal page is still a portal page');
  t.equal(endless.http?.bytes, 4096, 'and only read as far as evidence needs');
  const [f] = findingFor(urls.portal);
  t.match(f, { id: 'REV-012', severity: 'warning', title: /captive portal/ });
  t.match(f?.evidence, `${urls.portal} (CRL): HTTP_HTML: HTTP 200 text/html; charset=utf-8: an HTML page, not a CRL`);
  t.match(f?.evidence, 'Captive portal: please sign in');
  t.match(f?.fix, /miprobe check-network/);
  t.match(f?.fix, /30 s/);
});

t.test('403: an egress filter block page, REV-013', async (t) => {
  const r = byUrl(urls.blocked);
  t.equal(r.error?.code, 'HTTP_FORBIDDEN');
  t.match(r.answer, { status: 403, contentType: 'text/html', firstBytes: /Access Denied/ });
  const [f] = findingFor(urls.blocked);
  t.match(f, { id: 'REV-013', severity: 'warning' });
  t.match(f?.evidence, 'HTTP_FORBIDDEN: HTTP 403 Forbidden (text/html): refused, typically by an egress filter or proxy; the page says "<html><body><h1>Access Denied</h1>Blocked by web filter policy');
});

t.test('407: an explicit proxy, REV-014 says the platform uses none', async (t) => {
  const r = byUrl(urls.proxy);
  t.equal(r.error?.code, 'HTTP_PROXY_AUTH');
  t.equal(r.answer?.proxyAuthenticate, 'Basic realm="corp-proxy"');
  const [f] = findingFor(urls.proxy);
  t.match(f, { id: 'REV-014', severity: 'warning' });
  t.match(f?.evidence, 'HTTP_PROXY_AUTH: HTTP 407 Proxy Authentication Required (Proxy-Authenticate: Basic realm="corp-proxy")');
  t.match(f?.fix, /platform does not use proxies/);
});

t.test('slow headers: the connection accepted, no answer, REV-017', async (t) => {
  const r = byUrl(urls.slow);
  t.equal(r.error?.code, 'HTTP_HEADERS_TIMEOUT');
  t.equal(r.tcp?.state, 'open');
  const [f] = findingFor(urls.slow);
  t.match(f, { id: 'REV-017', severity: 'warning' });
  t.match(f?.evidence, `${HOST}:${port} accepted the connection and got the request, but sent no HTTP response headers within 1500 ms`);
});

t.test('a CRL URL answering 200 with something else: REV-003, the first bytes quoted safely', async (t) => {
  const r = byUrl(urls.notCrl);
  t.equal(r.error?.code, 'PARSE_ERROR');
  t.equal(r.answer?.firstBytes, '.[31mthis is not a CRL.[0m second line', 'control characters replaced, lines joined');
  const [f] = findingFor(urls.notCrl);
  t.match(f, { id: 'REV-003', severity: 'warning' });
  t.match(f?.evidence, /PARSE_ERROR: not a CRL .*the answer was HTTP 200 \(application\/octet-stream, 39 bytes\): "\.\[31mthis is not a CRL/);
  t.notMatch(f?.evidence ?? '', /\u001b/, 'no escape sequence reaches the terminal');
});

t.test('a URL that does not say what it serves must still prove a service: "OK" does not, a CRL does', async (t) => {
  const plain = byUrl(urls.untypedPlain);
  t.equal(plain.kind, 'other');
  t.equal(plain.ok, false, 'HTTP 200 "OK" is something answering, not the CA\'s service');
  t.match(plain.error?.message, /neither a CRL nor a certificate, so no revocation service is proven; the answer was HTTP 200 \(text\/plain, 2 bytes\): "OK"/);
  t.match(findingFor(urls.untypedPlain)[0], { id: 'REV-003', severity: 'warning' });
  const crl = byUrl(urls.untypedCrl);
  t.match(crl, { ok: true, service: { kind: 'crl', freshness: 'fresh' } }, 'a CRL proves it whatever the URL looks like');
});

t.test('an OCSP URL answering garbage or tryLater: REV-003', async (t) => {
  const garbage = byUrl(urls.ocspGarbage);
  t.equal(garbage.error?.code, 'PARSE_ERROR');
  t.match(garbage.answer?.firstBytes, /^hex 30 82 7f 00 de ad be ef$/);
  t.match(findingFor(urls.ocspGarbage)[0], { id: 'REV-003', evidence: /not an OCSP response/ });
  const later = byUrl(urls.ocspTryLater);
  t.equal(later.error?.code, 'OCSP_STATUS');
  t.match(findingFor(urls.ocspTryLater)[0], { id: 'REV-003', evidence: /the responder answered tryLater/ });
});

t.test('check lines: pass for the proven services, warn for the rest', async (t) => {
  const ok = new Set([urls.goodDer, urls.goodPem, urls.mislabelled, urls.ocsp, urls.ocspUnknown, urls.untypedCrl]);
  for (const c of checks) {
    const url = c.name.replace('Revocation endpoint ', '');
    t.equal(c.status, ok.has(url) ? 'pass' : 'warn', url);
  }
});

t.test('https: an intercepting middlebox is named by the certificate it presents', async (t) => {
  const name = 'crl.https.test';
  const interceptor = await createSimPki({ name: 'Corp TLS Inspection' });
  const forged = await interceptor.issueLeaf({ hostnames: [name] });
  const real = await pki.issueLeaf({ hostnames: [name] });
  const crl = await pki.crl('intermediate');
  const serve = async (address: string, leaf: { certPem: string; keyPem: string }, chain: string): Promise<number> => {
    const s = createHttpsServer({ cert: `${leaf.certPem}\n${chain}`, key: leaf.keyPem }, (_q, r) => r.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crl));
    await new Promise<void>((resolve) => s.listen(0, address, resolve));
    t.teardown(() => new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); }));
    return (s.address() as AddressInfo).port;
  };
  const goodPort = await serve('127.81.1.20', real, pki.intermediatePem);
  const badPort = await serve('127.81.1.21', forged, interceptor.intermediatePem);
  const resolveTo = (address: string) => async () => ({ addresses: [address] });
  const probe = (address: string, url: string) => checkRevocationEndpoints([url],
    { resolve: resolveTo(address), guard, timeoutMs: 3000, tlsCa: [pki.rootPem] }).then((r) => r[0]);

  const good = await probe('127.81.1.20', `https://${name}:${goodPort}/issuing.crl`);
  t.equal(good?.ok, true, 'a trusted certificate for the name: the CRL is read over TLS');
  t.match(good?.tls, { ok: true, protocol: /^TLSv1\.[23]$/ });

  const intercepted = await probe('127.81.1.21', `https://${name}:${badPort}/issuing.crl`);
  t.equal(intercepted?.error?.code, 'TLS_UNTRUSTED');
  t.match(intercepted?.answer?.certificate, { subject: `CN=${name}`, issuer: 'CN=Corp TLS Inspection Issuing CA 01, O=miprobe simulation' });
  const [f] = revocationFindings({ chains: [], endpoints: intercepted ? [intercepted] : [] });
  t.match(f, { id: 'REV-016', severity: 'warning' });
  t.match(f?.evidence, `the certificate presented (subject CN=${name}, issuer CN=Corp TLS Inspection Issuing CA 01, O=miprobe simulation) is not trusted`);

  // The right CA, the wrong name: also not the CA's endpoint.
  const wrongName = await probe('127.81.1.20', `https://other.https.test:${goodPort}/issuing.crl`);
  t.equal(wrongName?.error?.code, 'TLS_UNTRUSTED');
  t.match(wrongName?.error?.message, /does not name other\.https\.test/);
});
