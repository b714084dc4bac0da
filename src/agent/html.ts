// The small status page at "/": instances, verdicts, findings. Every value
// is escaped; the page loads nothing from elsewhere.
import type { InstanceStatus } from './store.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export function renderStatusPage(opts: { version: string; startedAt: string; shard?: string | undefined; instances: readonly InstanceStatus[] }): string {
  const e = escapeHtml;
  const rows = opts.instances.map((i) => {
    const findings = i.findings.length === 0 ? 'none'
      : `<ul>${i.findings.map((f) => `<li class="${e(f.severity)}"><b>${e(f.id)}</b> ${e(f.severity)}: ${e(f.title)}<br><small>${e(f.evidence)}</small></li>`).join('')}</ul>`;
    const checks = i.checks.map((c) => `${e(c.check)}: ${e(c.verdict)} (${e(c.completedAt)})`).join('<br>') || 'not run yet';
    return `<tr><td>${e(i.fqdn)}</td><td class="${e(i.verdict)}">${e(i.verdict)}</td><td>${checks}</td><td>${findings}</td></tr>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>miprobe agent</title>
<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top}
.failing,.critical{color:#b00}.degraded,.warning{color:#a60}.healthy{color:#080}</style></head>
<body><h1>miprobe agent</h1>
<p>Version ${e(opts.version)}, running since ${e(opts.startedAt)}${opts.shard ? `, shard ${e(opts.shard)}` : ''}; ${opts.instances.length} instance(s).
<a href="/metrics">Metrics</a> · <a href="/api/v1/status">Status (JSON)</a> · <a href="/healthz">Health</a></p>
<table><thead><tr><th>Instance</th><th>Verdict</th><th>Checks</th><th>Findings</th></tr></thead>
<tbody>
${rows}
</tbody></table></body></html>
`;
}
