// Management-port results -> findings and report lines. Pure functions.
//
//   managementFindings(result: ManagementPortsResult): Finding[]
//   managementChecks(result: ManagementPortsResult): CheckLine[]
//
// An open management port is a finding (the built-in firewall admits this
// host); filtered or closed is a pass; unreachable is information (the test is
// inconclusive); no management endpoint is "not applicable" with the reason.
import type { PortProbe } from '../probes/port-scan.js';
import type { ManagementPortsResult } from '../probes/management-ports.js';
import { MGMT } from './catalog/management.js';
import type { CheckLine } from './check.js';
import { finding, type Finding } from './finding.js';

function where(r: { address: string; host?: string }): string {
  return r.host ? `${r.host} (${r.address})` : r.address;
}

function list(ports: readonly number[], max = 20): string {
  return ports.length > max ? `${ports.slice(0, max).join(', ')}, ... (${ports.length} in all)` : ports.join(', ');
}

export function managementFindings(result: ManagementPortsResult): Finding[] {
  if (!result.applicable) return [];
  if (!result.ok) return [finding(MGMT.probeFailed, `${where(result)}: ${result.code}: ${result.message}`)];
  const out: Finding[] = [];
  const by = (state: PortProbe['state']): number[] => result.ports.filter((p) => p.state === state).map((p) => p.port);
  const open = by('open');
  if (open.length) {
    out.push(finding(MGMT.portOpen, `management port${open.length > 1 ? 's' : ''} ${open.join(', ')} on ${where(result)} `
      + 'completed the TCP handshake from this host'));
  }
  const unreachable = by('unreachable');
  if (unreachable.length === result.ports.length && unreachable.length > 0) {
    const msg = result.ports[0]?.message ?? 'unreachable';
    out.push(finding(MGMT.unreachable, `${where(result)}: every management port unreachable (${msg})`));
  }
  const errors = result.ports.filter((p) => p.state === 'error');
  if (errors.length) {
    out.push(finding(MGMT.probeFailed, `${where(result)}: ${errors.map((p) => `${p.port} ${p.code ?? 'error'}${p.message ? ` (${p.message})` : ''}`).join('; ')}`));
  }
  const scan = result.scan;
  if (scan && !scan.ok) out.push(finding(MGMT.probeFailed, `port scan of ${scan.address}: ${scan.code}: ${scan.message}`));
  if (scan?.ok) {
    const extraOpen = scan.ports.filter((p) => p.state === 'open').map((p) => p.port);
    if (extraOpen.length) out.push(finding(MGMT.unexpectedOpen, `port${extraOpen.length > 1 ? 's' : ''} ${list(extraOpen)} open on ${where(result)}`));
  }
  return out;
}

const STATE_DETAIL: Record<PortProbe['state'], string> = {
  open: 'open: the handshake completed (the built-in firewall should not admit this host)',
  closed: 'closed: reset (not reachable as a service)',
  filtered: 'filtered: no answer (the built-in firewall drops it)',
  unreachable: 'unreachable: the network rejected it',
  error: 'error',
};

export function managementChecks(result: ManagementPortsResult): CheckLine[] {
  if (!result.applicable) return [{ name: 'Management endpoint', status: 'skip', detail: `not applicable: ${result.reason}` }];
  if (!result.ok) return [{ name: 'Management ports', status: result.code === 'GUARD_DENIED' ? 'skip' : 'warn', seconds: result.seconds,
    detail: `${where(result)}: ${result.message}` }];
  const lines: CheckLine[] = result.ports.map((p) => ({
    name: `Management port ${p.port}`,
    status: p.state === 'open' ? 'warn' : p.state === 'unreachable' ? 'info' : p.state === 'error' ? 'warn' : 'pass',
    seconds: p.seconds,
    detail: `${where(result)} ${p.state === 'error' ? `error: ${p.code ?? ''} ${p.message ?? ''}`.trim() : STATE_DETAIL[p.state]}`,
  }));
  const scan = result.scan;
  if (scan) {
    if (!scan.ok) lines.push({ name: 'Port scan', status: 'warn', seconds: scan.seconds, detail: scan.message });
    else {
      const c = scan.counts;
      const openPorts = scan.ports.filter((p) => p.state === 'open').map((p) => p.port);
      lines.push({ name: 'Port scan', status: openPorts.length ? 'warn' : 'pass', seconds: scan.seconds,
        detail: `${scan.ports.length + scan.skipped.length} ports: ${c.open} open${openPorts.length ? ` (${list(openPorts, 10)})` : ''}, `
          + `${c.closed} closed, ${c.filtered} filtered, ${c.unreachable} unreachable${c.error ? `, ${c.error} errors` : ''}`
          + `${scan.skipped.length ? `, ${scan.skipped.length} not probed (deadline)` : ''}` });
    }
  }
  return lines;
}
