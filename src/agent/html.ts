// The status page at "/": what an on-call engineer opens first. Per instance:
// the verdict, its labels, the path hop by hop with each hop's state, the
// findings with evidence and fix, when it was checked, its last state changes.
// Plain HTML and one inline style sheet (allowed by its hash in the CSP): no
// script, nothing loaded from elsewhere (agents run in closed VNets), light and
// dark. It refreshes itself with <meta http-equiv="refresh">. Every value is
// escaped: names, labels and evidence can come from peers.
import { createHash } from 'node:crypto';
import type { Finding } from '../diagnosis/finding.js';
import { HOP_TITLES, type Hop, type HopKind } from './path.js';
import type { InstanceStatus } from './store.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
const e = escapeHtml;

export const DEFAULT_REFRESH_SECONDS = 15;
const MIN_REFRESH_SECONDS = 2;
const MAX_REFRESH_SECONDS = 3600;

/** The page's refresh period from `?refresh=` (bounded), or the default. */
export function refreshSeconds(query: URLSearchParams): number {
  const n = Number(query.get('refresh'));
  return Number.isInteger(n) && n > 0 ? Math.min(MAX_REFRESH_SECONDS, Math.max(MIN_REFRESH_SECONDS, n)) : DEFAULT_REFRESH_SECONDS;
}

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#59636e;--line:#d1d9e0;--card:#f6f8fa;
--ok:#1a7f37;--ok-bg:#dafbe1;--warn:#9a6700;--warn-bg:#fff8c5;--fail:#cf222e;--fail-bg:#ffebe9;--skip:#59636e;--skip-bg:#eaeef2;--link:#0969da}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--card:#151b23;
--ok:#3fb950;--ok-bg:#12261e;--warn:#d29922;--warn-bg:#272115;--fail:#f85149;--fail-bg:#2d1214;--skip:#9198a1;--skip-bg:#212830;--link:#4493f8}}
*{box-sizing:border-box}
body{margin:0;padding:1rem 1.5rem;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
a{color:var(--link)}
h1{font-size:1.35rem;margin:0 0 .25rem}
h2{font-size:1.1rem;margin:0;display:inline}
h3{font-size:.95rem;margin:1rem 0 .4rem}
.meta,.muted{color:var(--muted)}
.summary{margin:.5rem 0 1rem}
details.instance{border:1px solid var(--line);border-radius:8px;margin:0 0 1rem;background:var(--card)}
details.instance>summary{padding:.6rem .9rem;cursor:pointer;list-style-position:inside}
details.instance>.body{padding:0 .9rem .9rem}
.badge{display:inline-block;padding:0 .5em;border-radius:1em;font-size:.8rem;font-weight:600;border:1px solid currentColor;vertical-align:middle}
.v-failing,.s-fail,.sev-critical{color:var(--fail)}
.v-degraded,.s-warn,.sev-warning{color:var(--warn)}
.v-healthy,.s-ok{color:var(--ok)}
.v-unknown,.v-not-reached,.s-skip,.sev-info{color:var(--skip)}
.v-error{color:var(--warn)}
.label{display:inline-block;font-size:.8rem;border:1px solid var(--line);border-radius:4px;padding:0 .35em;margin-left:.3em;color:var(--muted)}
.path{display:flex;flex-wrap:wrap;align-items:stretch;gap:.4rem;margin:.3rem 0}
.stage{display:flex;flex-direction:column;gap:.4rem;flex:1 1 11rem;max-width:22rem}
.arrow{align-self:center;color:var(--muted);font-size:1.3rem}
.hop{border:2px solid var(--line);border-radius:8px;padding:.4rem .55rem;background:var(--bg);font-size:.85rem;overflow-wrap:anywhere}
.hop.s-ok{border-color:var(--ok)}.hop.s-warn{border-color:var(--warn);background:var(--warn-bg)}
.hop.s-fail{border-color:var(--fail);background:var(--fail-bg)}.hop.s-skip{border-style:dashed;border-color:var(--skip)}
.hop .kind{font-weight:600;color:var(--fg)}
.hop .name{color:var(--fg);font-family:ui-monospace,monospace;font-size:.8rem}
.hop ul{margin:.25rem 0 0;padding-left:1rem;color:var(--fg)}
.findings{list-style:none;padding:0;margin:0}
.finding{border-left:4px solid currentColor;padding:.35rem .7rem;margin:0 0 .5rem;background:var(--bg)}
.finding.sev-critical{background:var(--fail-bg)}.finding.sev-warning{background:var(--warn-bg)}
.finding dl{margin:.25rem 0 0;display:grid;grid-template-columns:max-content 1fr;gap:.1rem .6rem;color:var(--fg)}
.finding dt{font-weight:600}.finding dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;font-size:.85rem}
td,th{border:1px solid var(--line);padding:.2rem .5rem;text-align:left;vertical-align:top}
`;

/** The Content-Security-Policy of the page: nothing but its own inline style sheet. */
export const STATUS_PAGE_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

const STATE_TEXT: Readonly<Record<Hop['state'], string>> = { ok: 'ok', warn: 'warning', fail: 'failing', skip: 'not checked' };
const VERDICT_ORDER: Readonly<Record<string, number>> = { failing: 0, degraded: 1, unknown: 2, healthy: 3 };

/** "12 s ago", "4 min ago", "3 h ago", "2 d ago". */
export function ago(iso: string, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

const time = (iso: string, nowMs: number): string => `<time datetime="${e(iso)}" title="${e(iso)}">${e(ago(iso, nowMs))}</time>`;

function renderHop(h: Hop): string {
  const lines = h.lines.length ? `<ul>${h.lines.map((l) => `<li>${e(l)}</li>`).join('')}</ul>` : '';
  const ids = h.findings.length ? ` <span class="muted">(${e(h.findings.join(', '))})</span>` : '';
  return `<div class="hop s-${e(h.state)}" data-kind="${e(h.kind)}" data-state="${e(h.state)}">`
    + `<span class="kind">${e(HOP_TITLES[h.kind])}</span> <span class="badge s-${e(h.state)}">${e(STATE_TEXT[h.state])}</span>${ids}`
    + `${h.label ? `<br><span class="name">${e(h.label)}</span>` : ''}${lines}</div>`;
}

/** The data path as a chain (resolvers, address, gateway, node), then what hangs off it (management endpoint, revocation, public endpoint). */
function renderPath(path: readonly Hop[]): string {
  const of = (kinds: readonly HopKind[]): Hop[] => path.filter((h) => kinds.includes(h.kind));
  const stage = (hops: readonly Hop[]): string => (hops.length ? `<div class="stage">${hops.map(renderHop).join('')}</div>` : '');
  const chain = [of(['resolver']), of(['address']), of(['gateway']), of(['node'])].filter((s) => s.length > 0).map(stage);
  const side = of(['management', 'revocation', 'public']).map((h) => stage([h]));
  return `<div class="path" aria-label="data path">${chain.join('<span class="arrow" aria-hidden="true">→</span>')}</div>`
    + (side.length ? `<div class="path" aria-label="other endpoints">${side.join('')}</div>` : '');
}

function renderFinding(f: Finding): string {
  const ref = /^https?:\/\/[^\s"<>]+$/.test(f.ref) ? `<a href="${e(f.ref)}" rel="noreferrer noopener">${e(f.ref)}</a>` : e(f.ref);
  return `<li class="finding sev-${e(f.severity)}"><b>${e(f.id)}</b> <span class="badge sev-${e(f.severity)}">${e(f.severity)}</span> ${e(f.title)}`
    + `<dl><dt>seen</dt><dd>${e(f.evidence)}</dd><dt>fix</dt><dd class="fix">${e(f.fix)}</dd>${f.ref ? `<dt>ref</dt><dd>${ref}</dd>` : ''}</dl></li>`;
}

function renderInstance(i: InstanceStatus, nowMs: number): string {
  const labels = Object.entries(i.labels).map(([k, v]) => `<span class="label">${e(k)}=${e(v)}</span>`).join('');
  const checked = i.checkedAt ? `checked ${time(i.checkedAt, nowMs)}` : 'not checked yet';
  const counts = (['critical', 'warning', 'info'] as const).map((s) => [s, i.findings.filter((f) => f.severity === s).length] as const).filter(([, n]) => n > 0);
  const findings = i.findings.length === 0 ? '<p class="muted">No findings.</p>' : `<ul class="findings">${i.findings.map(renderFinding).join('')}</ul>`;
  const checks = i.checks.length === 0 ? '' : `<h3>Checks</h3><table><thead><tr><th>check</th><th>state</th><th>checked</th><th>took</th></tr></thead><tbody>${
    i.checks.map((c) => `<tr><td>${e(c.check)}</td><td class="v-${e(c.state)}">${c.state === 'not-reached' || c.state === 'error' ? e(c.reason ?? c.state)
      : `${e(c.state)}${c.reason ? `<br><span class="muted">${e(c.reason)}</span>` : ''}`}</td>`
      + `<td>${time(c.completedAt, nowMs)}</td><td>${e(c.durationSeconds.toFixed(2))} s</td></tr>`).join('')}</tbody></table>`;
  const changes = i.changes.length === 0 ? '' : `<h3>Last state changes</h3><table><thead><tr><th>when</th><th>check</th><th>from</th><th>to</th></tr></thead><tbody>${
    i.changes.map((c) => `<tr><td>${time(c.at, nowMs)}</td><td>${e(c.check)}</td><td>${e(c.from)}</td><td>${e(c.to)}</td></tr>`).join('')}</tbody></table>`;
  // Healthy instances start folded; the others open, so a failure is what the page shows first.
  return `<details class="instance" id="${e(`i-${i.fqdn}`)}" data-verdict="${e(i.verdict)}"${i.verdict === 'healthy' ? '' : ' open'}>`
    + `<summary><h2>${e(i.fqdn)}</h2> <span class="badge v-${e(i.verdict)}">${e(i.verdict)}</span>${labels}`
    + ` <span class="meta">${checked}${counts.length ? ` · ${counts.map(([s, n]) => `${n} ${s}`).join(', ')}` : ''}</span></summary>`
    + `<div class="body"><h3>Path</h3>${renderPath(i.path)}<h3>Findings</h3>${findings}${checks}${changes}</div></details>`;
}

export interface StatusPageOptions {
  readonly version: string;
  readonly startedAt: string;
  readonly shard?: string | undefined;
  readonly instances: readonly InstanceStatus[];
  /** Seconds between refreshes (meta refresh). */
  readonly refreshSeconds?: number;
  /** The time the page is rendered for (tests); default now. */
  readonly nowMs?: number;
}

export function renderStatusPage(opts: StatusPageOptions): string {
  const nowMs = opts.nowMs ?? Date.now();
  const refresh = opts.refreshSeconds ?? DEFAULT_REFRESH_SECONDS;
  const sorted = [...opts.instances].sort((a, b) => (VERDICT_ORDER[a.verdict] ?? 9) - (VERDICT_ORDER[b.verdict] ?? 9) || a.fqdn.localeCompare(b.fqdn));
  const tally = ['failing', 'degraded', 'unknown', 'healthy'].map((v) => [v, opts.instances.filter((i) => i.verdict === v).length] as const).filter(([, n]) => n > 0);
  // Relative links: behind a reverse proxy that serves the agent under a path prefix, "/" would leave it.
  const self = refresh === DEFAULT_REFRESH_SECONDS ? './' : `./?refresh=${refresh}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="${refresh}; url=${e(self)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>miprobe agent: ${tally.map(([v, n]) => `${n} ${v}`).join(', ') || 'no instance'}</title>
<style>${CSS}</style></head>
<body><h1>miprobe agent</h1>
<p class="meta">Version ${e(opts.version)}, started ${time(opts.startedAt, nowMs)}${opts.shard ? `, shard ${e(opts.shard)}` : ''}.
This page refreshes every ${refresh} s (<a href="./?refresh=60">every minute</a>). <a href="metrics">Metrics</a> · <a href="api/v1/status">Status (JSON)</a> · <a href="healthz">Health</a></p>
<p class="summary"><b>${opts.instances.length} instance${opts.instances.length === 1 ? '' : 's'}</b>${tally.length ? `: ${tally.map(([v, n]) => `<span class="v-${e(v)}">${n} ${e(v)}</span>`).join(', ')}` : ''}</p>
${sorted.map((i) => renderInstance(i, nowMs)).join('\n')}
</body></html>
`;
}
