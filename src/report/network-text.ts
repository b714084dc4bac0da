// Text rendering of a check-network report: a header, the check lines, the
// findings (with the az command that fixes each, when there is one) and the
// verdict, in the same style as the diagnosis (src/report/text.ts). Formats
// only; every decision is in src/network/check.ts.
import type { NetworkCheckReport } from '../network/types.js';
import type { Style } from './style.js';
import { renderChecks, renderFindings, renderVerdict } from './text.js';

export function renderNetworkText(report: NetworkCheckReport, style: Style): string {
  const s = report.subject;
  const parts = [`subnet ${s.subnet} (${s.addressPrefixes.join(', ')})`];
  if (s.nsg) parts.push(`NSG ${s.nsg}`);
  if (s.routeTable) parts.push(`route table ${s.routeTable}`);
  if (s.vnet) parts.push(`VNet ${s.vnet}`);
  return [
    style.bold(`miprobe ${report.tool.version} check-network: ${parts.join(', ')}`),
    `Architecture: ${report.architecture} (${report.architectureReason})`, '',
    'Checks:', ...renderChecks(report.checks, style), '',
    ...renderFindings(report.findings, style), '',
    renderVerdict(report.verdict, report.findings, undefined, style), '',
  ].join('\n');
}
