// Text rendering of a check-network report: a header, one line per check
// with its mark, then the findings (evidence, fix, az command, reference),
// then the verdict. Formats only; every decision is in src/network/check.ts.
import type { CheckLine, CheckStatus } from '../diagnosis/check.js';
import type { NetworkCheckReport } from '../network/types.js';

const MARK: Record<CheckStatus, string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP', info: 'INFO' };

export function checkLineText(c: CheckLine, nameWidth: number): string {
  return `  ${MARK[c.status]}  ${c.name.padEnd(nameWidth)}  ${c.detail}`;
}

export function renderNetworkText(report: NetworkCheckReport): string {
  const s = report.subject;
  const out: string[] = [];
  const parts = [`subnet ${s.subnet} (${s.addressPrefixes.join(', ')})`];
  if (s.nsg) parts.push(`NSG ${s.nsg}`);
  if (s.routeTable) parts.push(`route table ${s.routeTable}`);
  if (s.vnet) parts.push(`VNet ${s.vnet}`);
  out.push(`miprobe check-network: ${parts.join(', ')}`);
  out.push(`architecture: ${report.architecture} (${report.architectureReason})`, '');
  out.push('Checks');
  const width = Math.min(48, Math.max(...report.checks.map((c) => c.name.length)));
  for (const c of report.checks) out.push(checkLineText(c, width));
  out.push('');
  if (report.findings.length === 0) out.push('Findings: none');
  else {
    out.push(`Findings (${report.findings.length})`);
    for (const f of report.findings) {
      out.push(`  [${f.severity}] ${f.id} ${f.title}`);
      out.push(`    evidence: ${f.evidence}`);
      out.push(`    fix: ${f.fix}`);
      if (f.command) out.push(`    $ ${f.command}`);
      out.push(`    ref: ${f.ref}`);
    }
  }
  const count = (sev: string): number => report.findings.filter((f) => f.severity === sev).length;
  out.push('', `Verdict: ${report.verdict} (${count('critical')} critical, ${count('warning')} warning, ${count('info')} info)`);
  return `${out.join('\n')}\n`;
}
