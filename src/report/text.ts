// The text report for people: checks with marks and timings, the CNAME
// chain hop by hop, findings with evidence and fix, the verdict. The check,
// finding and verdict blocks are shared with check-network (one style).
// A consequence is shown under its cause, marked as following from it.
import type { CheckLine } from '../diagnosis/check.js';
import type { Finding, Verdict } from '../diagnosis/finding.js';
import type { DiagnosisReport } from '../diagnosis/report.js';
import { formatSeconds, type Style } from './style.js';

export function renderChecks(checks: readonly CheckLine[], style: Style): string[] {
  const width = Math.min(34, Math.max(0, ...checks.map((c) => c.name.length)));
  return checks.map((c) => {
    const time = c.seconds === undefined ? '' : style.dim(` (${formatSeconds(c.seconds)})`);
    // A line not reached names its cause in its detail; a line that ran but failed because of another says so here.
    const follows = c.causedBy && c.skipped === undefined ? style.dim(` (follows from ${c.causedBy})`) : '';
    return `  ${style.mark(c.status)} ${c.name.padEnd(width)}  ${c.detail}${follows}${time}`;
  });
}

export function renderFindings(findings: readonly (Finding & { readonly command?: string })[], style: Style): string[] {
  if (findings.length === 0) return ['Findings: none'];
  const lines = [`Findings (${findings.length}):`];
  for (const f of findings) {
    const indent = f.causedBy ? '    ' : '  ';
    const follows = f.causedBy ? style.dim(` (follows from ${f.causedBy})`) : '';
    lines.push(`${indent}${style.severity(f.severity)} ${style.bold(f.id)} ${f.title}${follows}`);
    lines.push(`${indent}  seen: ${f.evidence}`);
    lines.push(`${indent}  fix:  ${f.fix}`);
    if (f.command) lines.push(`${indent}  run:  ${f.command}`);
    lines.push(style.dim(`${indent}  ref:  ${f.ref}`));
  }
  return lines;
}

export function renderVerdict(verdict: Verdict, findings: readonly Finding[], seconds: number | undefined, style: Style): string {
  const count = (s: string): number => findings.filter((f) => f.severity === s).length;
  const time = seconds === undefined ? '' : `  in ${formatSeconds(seconds)}`;
  return `Verdict: ${style.verdict(verdict)}  ${count('critical')} critical, ${count('warning')} warning, ${count('info')} info${time}`;
}

function renderChains(report: DiagnosisReport): string[] {
  const lines: string[] = [];
  for (const r of report.dns) {
    if (!r.ok) continue;
    lines.push(`  via ${r.server} (${r.role}):`);
    lines.push(`    ${report.target.fqdn}`);
    for (const hop of r.chain) lines.push(`      -> ${hop.type.padEnd(5)} ${hop.data}  ttl ${hop.ttl}`);
  }
  return lines.length ? ['Name resolution:', ...lines] : [];
}

export function renderText(report: DiagnosisReport, style: Style): string {
  const t = report.target;
  const head = `miprobe ${report.tool.version}: ${t.fqdn} (${t.kind}, port ${t.port})  ${report.startedAt}`;
  const mgmt = report.managementEndpoint;
  const mgmtLine = mgmt.present
    ? `Management endpoint: ${mgmt.host} (from ${mgmt.cnameTarget}) = ${mgmt.addresses.join(', ') || mgmt.error?.code || 'no address'}`
    : `Management endpoint: not applicable (${mgmt.reason})`;
  return [
    style.bold(head), '',
    'Checks:', ...renderChecks(report.checks, style), '',
    ...renderChains(report), mgmtLine, '',
    ...renderFindings(report.findings, style), '',
    renderVerdict(report.verdict, report.findings, report.durationSeconds, style), '',
  ].join('\n');
}
