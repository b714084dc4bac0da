// The status page as HTML: every value from peers escaped, the path hop by
// hop in order with each hop's state, findings with evidence and fix, ages,
// state changes, meta refresh, light and dark, nothing loaded from elsewhere
// (its one style sheet allowed by hash). The browser test drives it for real.
import t from 'tap';
import { createHash } from 'node:crypto';
import { ago, refreshSeconds, renderStatusPage, STATUS_PAGE_CSP } from '../../src/agent/html.js';
import { ResultStore } from '../../src/agent/store.js';
import type { Finding } from '../../src/diagnosis/finding.js';
import type { DiagnosisReport } from '../../src/diagnosis/report.js';
import { fixtureFinding, fixtureLine, fixtureReport } from '../helpers/report-fixture.js';

const GOOD = 'mi1.0a1b2c3d4e5f.database.windows.net';
const BAD = 'mi2.0a1b2c3d4e5f.database.windows.net';
const HOSTILE = '<img src=x onerror=alert(1)>"\'&';

const finding = (id: string, severity: Finding['severity'], evidence = 'seen'): Finding => fixtureFinding(id, severity, 'gateway', evidence);

function report(findings: Finding[]): DiagnosisReport {
  const base = fixtureReport();
  const tlsFailed = findings.some((f) => f.id === 'TLS-001');
  return {
    ...base,
    target: { ...base.target, fqdn: GOOD },
    checks: [
      ...base.checks.filter((l) => l.name !== 'TLS' && l.check !== 'revocationEndpoints'),
      fixtureLine('gateway', 'TLS', tlsFailed ? 'fail' : 'pass', `TLS ${HOSTILE}`),
      fixtureLine('revocationEndpoints', 'Revocation endpoint http://crl.microsoft.com/', 'pass', 'HTTP 404'),
      fixtureLine('revocationEndpoints', 'Revocation endpoint http://ocsp.digicert.com/', 'fail', 'TCP_TIMEOUT'),
    ],
    verdict: tlsFailed ? 'failing' : 'healthy',
    findings,
  };
}

t.test('the page', async (t) => {
  const store = new ResultStore();
  store.setInstances([{ fqdn: GOOD, kind: 'vnet-local', labels: { team: 'payments' } }, { fqdn: BAD, kind: 'vnet-local', labels: { owner: HOSTILE } }]);
  const at = 1_900_000_000;
  for (const check of ['nameResolution', 'dataPath', 'management', 'revocation'] as const) {
    store.record(GOOD, { check, completedAt: at, durationSeconds: 0.2, report: report([]) });
  }
  store.record(BAD, { check: 'dataPath', completedAt: at - 60, durationSeconds: 0.2, report: report([]) });
  store.record(BAD, { check: 'dataPath', completedAt: at, durationSeconds: 0.3, report: report([finding('TLS-001', 'critical', `evidence ${HOSTILE}`)]) });
  const html = renderStatusPage({ version: '1.2.3', startedAt: new Date((at - 3600) * 1000).toISOString(), instances: store.status(), nowMs: (at + 12) * 1000 });

  t.notMatch(html, /<(img|script|link|iframe|object|embed)\b|<[^>]*\ssrc=|@import|url\(/i, 'nothing loaded from elsewhere, no script');
  t.notMatch(html, /onerror=alert\(1\)>/, 'markup from peers is escaped');
  t.match(html, '&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
  t.match(STATUS_PAGE_CSP, `style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`, 'the CSP allows exactly this style sheet');
  t.match(STATUS_PAGE_CSP, /^default-src 'none'/);
  t.match(style, /@media \(prefers-color-scheme:dark\)/, 'a dark palette');
  t.match(html, /<meta name="color-scheme" content="light dark">/);
  t.match(html, /<meta http-equiv="refresh" content="15; url=\.\/">/, 'refreshes itself without JavaScript');
  t.match(renderStatusPage({ version: '1', startedAt: new Date().toISOString(), instances: [], refreshSeconds: 5 }), /content="5; url=\.\/\?refresh=5"/);
  // Behind a reverse proxy under a path prefix, an absolute link would leave the agent's pages.
  t.same(html.match(/(?:href|src|action)="\/[^"]*"|url=\//g), null, 'no absolute link');
  t.match(html, /<a href="metrics">Metrics<\/a>/);

  t.ok(html.indexOf(BAD) < html.indexOf(GOOD), 'the failing instance comes first');
  t.match(html, new RegExp(`<details class="instance" id="i-${BAD.replaceAll('.', '\\.')}" data-verdict="failing" open>`), 'and is unfolded');
  t.match(html, /data-verdict="healthy">/, 'a healthy one is folded');
  t.match(html, /checked <time datetime="[^"]+" title="[^"]+">12 s ago<\/time>/);
  t.match(html, '<span class="label">team=payments</span>', 'labels');
  t.match(html, 'TLS-001: the fix to apply', 'the fix');
  t.match(html, 'evidence &lt;img', 'the evidence');
  t.match(html, /<a href="https:\/\/learn\.microsoft\.com\/[^"]+" rel="noreferrer noopener">/, 'the reference as a link');

  const good = html.slice(html.indexOf(`id="i-${GOOD}"`));
  const kinds = [...good.matchAll(/data-kind="([a-z]+)" data-state="([a-z]+)"/g)].map((m) => `${m[1]}:${m[2]}`);
  t.same(kinds, ['resolver:ok', 'address:ok', 'gateway:ok', 'node:skip', 'management:ok', 'revocation:fail'], 'the path hop by hop, each with its state');
  t.match(good, /9000 filtered · 9003 filtered · 1438 filtered · 1440 filtered · 1452 filtered/, 'the management ports in one line');
  t.match(good, /1 of 2 answer; not: ocsp\.digicert\.com/, 'revocation endpoints summarised');
  const bad = html.slice(html.indexOf(`id="i-${BAD}"`), html.indexOf(`id="i-${GOOD}"`));
  t.match(bad, /data-kind="gateway" data-state="fail"/, 'the failing hop');
  t.match(bad, /data-kind="resolver" data-state="skip"[\s\S]*not checked yet/, 'a check without a result says so');
  t.match(bad, /<td>dataPath<\/td><td>healthy<\/td><td>failing: TLS-001<\/td>/, 'the last state change');
});

t.test('small parts', async (t) => {
  const now = Date.parse('2030-01-01T00:10:00Z');
  t.equal(ago('2030-01-01T00:09:48Z', now), '12 s ago');
  t.equal(ago('2030-01-01T00:05:00Z', now), '5 min ago');
  t.equal(ago('2029-12-31T21:10:00Z', now), '3 h ago');
  t.equal(ago('2030-01-01T00:10:05Z', now), '0 s ago', 'a clock a little ahead is "now"');
  t.equal(refreshSeconds(new URLSearchParams('refresh=5')), 5);
  t.equal(refreshSeconds(new URLSearchParams('refresh=1')), 2, 'at least 2 s');
  t.equal(refreshSeconds(new URLSearchParams('refresh=99999')), 3600);
  t.equal(refreshSeconds(new URLSearchParams('refresh=abc')), 15);
  t.equal(refreshSeconds(new URLSearchParams('')), 15);
});
