// Reachability of the platform's revocation endpoints (127.80.3.0/24). The
// default host list is only ever resolved through the simulated DNS server,
// and the guard keeps every packet on loopback.
import t from 'tap';
import { createServer } from 'node:http';
import { AddressGuard } from '../../src/net/guard.js';
import { hostResolverFor } from '../../src/probes/context.js';
import { startDnsServer } from '../../src/sim/dns-server.js';
import { endpointKind, checkRevocationEndpoints } from '../../src/net/pki/revocation.js';
import { DEFAULT_REVOCATION_ENDPOINTS } from '../../src/probes/revocation.js';
import { revocationChecks, revocationFindings } from '../../src/diagnosis/revocation-rules.js';

const guard = AddressGuard.fromList('127.80.3.0/24');

t.test('the default list: one real resource on each platform host, over http', async (t) => {
  t.same(DEFAULT_REVOCATION_ENDPOINTS.map((u) => new URL(u).host), ['crl.microsoft.com', 'mscrl.microsoft.com', 'crl3.digicert.com',
    'crl4.digicert.com', 'www.microsoft.com', 'ocsp.digicert.com', 'oneocsp.microsoft.com', 'ocsp.msocsp.com']);
  t.ok(DEFAULT_REVOCATION_ENDPOINTS.every((u) => u.startsWith('http://')));
  t.same(DEFAULT_REVOCATION_ENDPOINTS.map(endpointKind), ['crl', 'crl', 'crl', 'crl', 'crl', 'ocsp', 'ocsp', 'ocsp']);
  for (const u of DEFAULT_REVOCATION_ENDPOINTS.filter((x) => endpointKind(x) === 'crl')) {
    t.match(new URL(u).pathname, /^\/.+\.crl$/, `${u} names a CRL file, not a host root`);
  }
  t.ok(DEFAULT_REVOCATION_ENDPOINTS.includes('http://www.microsoft.com/pkiops/crl/Microsoft%20Azure%20RSA%20TLS%20Issuing%20CA%2007.crl'));
  t.ok(DEFAULT_REVOCATION_ENDPOINTS.includes('http://oneocsp.microsoft.com/ocsp'));
});

t.test('the kind of a URL', async (t) => {
  t.equal(endpointKind('http://example.test/a/b.CRL'), 'crl');
  t.equal(endpointKind('http://cacerts.digicert.com/DigiCertGlobalRootG2.crt'), 'aia');
  t.equal(endpointKind('http://ocsp.example.test'), 'ocsp');
  t.equal(endpointKind('http://ca.example.test/ocsp'), 'ocsp');
  t.equal(endpointKind('http://mscrl.microsoft.com/'), 'crl', 'a bare CRL host is still a CRL URL (and a root page is no CRL)');
  t.equal(endpointKind('http://example.test/'), 'other');
  t.equal(endpointKind('not a url'), 'other');
});

t.test('DNS, TCP and HTTP of the default endpoints, through a simulated DNS server', async (t) => {
  // One HTTP server on port 80 of 127.80.3.10 when this host lets us bind it; else port 80 is "closed".
  // It answers 404 everywhere, and 100 kB that are no CRL at the www.microsoft.com/pkiops CRL path.
  const web = createServer((req, res) => (req.url?.startsWith('/pkiops/crl/') ? res.writeHead(200).end('x'.repeat(100_000)) : res.writeHead(404).end('no')));
  const bound = await new Promise<boolean>((resolveBind) => {
    web.once('error', () => resolveBind(false));
    web.listen(80, '127.80.3.10', () => resolveBind(true));
  });
  t.teardown(() => new Promise<void>((r) => (bound ? web.close(() => r()) : r())));
  const dns = await startDnsServer({ host: '127.80.3.53', records: [
    { name: 'crl.microsoft.com', type: 'A', data: '127.80.3.10' },
    { name: 'www.microsoft.com', type: 'CNAME', data: 'www.microsoft.com-c-3.edgekey.net' },
    { name: 'www.microsoft.com-c-3.edgekey.net', type: 'A', data: '127.80.3.10' },
    { name: 'crl3.digicert.com', type: 'A', data: '127.80.3.11' }, // nothing listens there
    { name: 'ocsp.digicert.com', type: 'A', data: '192.0.2.1' }, // outside the guard: never contacted
  ] });
  t.teardown(() => dns.close());
  const resolver = hostResolverFor([{ endpoint: dns.endpoint, role: 'custom' }], guard, 0, { ipv6: false });
  const results = await checkRevocationEndpoints(DEFAULT_REVOCATION_ENDPOINTS, { resolve: resolver, guard, timeoutMs: 2000 });
  t.equal(results.length, 8);
  const by = (host: string) => results.find((r) => r.host === host);
  const crl = by('crl.microsoft.com');
  t.equal(crl?.dns?.ok, true);
  t.same(crl?.dns?.addresses, ['127.80.3.10']);
  t.equal(crl?.kind, 'crl');
  if (bound) {
    t.equal(crl?.ok, false, 'an HTTP answer is not enough: a 404 is no CRL');
    t.equal(crl?.error?.code, 'HTTP_STATUS');
    t.equal(crl?.http?.status, 404);
    const www = by('www.microsoft.com');
    t.equal(www?.http?.status, 200, 'the /pkiops CRL path is asked for');
    t.equal(www?.error?.code, 'PARSE_ERROR', '200 with bytes that are no CRL');
    t.match(www?.answer, { status: 200, bytes: 100_000, firstBytes: /^x{120}\.\.\.$/ });
  } else {
    t.equal(crl?.error?.code, 'TCP_REFUSED');
  }
  t.equal(by('crl3.digicert.com')?.error?.code, 'TCP_REFUSED');
  t.equal(by('crl3.digicert.com')?.tcp?.state, 'closed');
  t.equal(by('mscrl.microsoft.com')?.error?.code, 'DNS_FAILED');
  t.match(by('mscrl.microsoft.com')?.dns?.error ?? '', /NXDOMAIN/);
  t.equal(by('mscrl.microsoft.com')?.dns?.code, 'DNS_NXDOMAIN');
  t.equal(by('ocsp.digicert.com')?.error?.code, 'GUARD_DENIED');
  t.equal(by('ocsp.digicert.com')?.tcp, undefined, 'no connection was attempted');
  t.equal(by('oneocsp.microsoft.com')?.kind, 'ocsp');

  const findings = revocationFindings({ chains: [], endpoints: results });
  t.ok(findings.every((f) => f.severity === 'warning'), 'from a client, unusable endpoints are a risk: warnings');
  const unreachable = findings.filter((f) => f.id === 'REV-002').map((f) => f.evidence);
  t.ok(unreachable.some((e) => /crl3\.digicert\.com.*TCP 80 failed: TCP_REFUSED/.test(e)), 'TCP failure named');
  t.ok(unreachable.some((e) => /mscrl\.microsoft\.com.*DNS failed/.test(e)), 'DNS failure named');
  t.notOk(findings.some((f) => f.causedBy !== undefined), 'NXDOMAIN is an answer: not a silent resolver');
  t.notOk(findings.some((f) => /ocsp\.digicert\.com/.test(f.evidence)), 'a guard refusal is not a network finding');
  if (bound) {
    t.ok(findings.some((f) => f.id === 'REV-003' && /crl\.microsoft\.com.*HTTP_STATUS: HTTP 404/.test(f.evidence)), '404 reported with its status');
  }
  const checks = revocationChecks({ chains: [], endpoints: results });
  t.equal(checks.length, 8);
  t.equal(checks.find((c) => c.name.includes('ocsp.digicert.com'))?.status, 'skip');
  t.equal(checks.find((c) => c.name.includes('crl3.digicert.com'))?.status, 'warn');
  t.same(JSON.parse(JSON.stringify(results)), results, 'JSON as it is');
});

t.test('a slow endpoint is cut at the deadline', async (t) => {
  const slow = createServer(() => { /* never answers */ });
  await new Promise<void>((r) => slow.listen(0, '127.80.3.20', () => r()));
  t.teardown(() => new Promise<void>((r) => { slow.closeAllConnections(); slow.close(() => r()); }));
  const address = slow.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const started = performance.now();
  const [r] = await checkRevocationEndpoints([`http://127.80.3.20:${port}/crl`], { resolve: async () => ({ addresses: [] }), guard, timeoutMs: 500 });
  t.ok(performance.now() - started < 1500, 'returned near the deadline');
  t.equal(r?.error?.code, 'HTTP_HEADERS_TIMEOUT', 'accepted, then silence');
  t.equal(r?.tcp?.state, 'open');
  const ac = new AbortController();
  const pending = checkRevocationEndpoints([`http://127.80.3.20:${port}/crl`], { resolve: async () => ({ addresses: [] }), guard, timeoutMs: 5000, signal: ac.signal });
  setTimeout(() => ac.abort(), 100);
  const [aborted] = await pending;
  t.equal(aborted?.error?.code, 'ABORTED');
});
