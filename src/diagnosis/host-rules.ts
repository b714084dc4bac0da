// The host's own stalls against the deadlines: a stall that ate a good part of a
// deadline turns the timeouts seen meanwhile into consequences of HOST-001 instead of
// network criticals. Pure: stall figures and findings in, findings out.
import type { StallReport } from '../net/stall.js';
import { HOST } from './catalog/host.js';
import { finding, type Finding } from './finding.js';

/** Findings that say "no answer in time": what a stalled process can cause by itself. */
const TIMEOUT_FINDINGS: ReadonlySet<string> = new Set(['DNS-002', 'TCP-002', 'TDS-001', 'TLS-006', 'LOGIN-006']);

/** A stall above a quarter of the deadline (and at least 250 ms) is the host's problem, not noise. */
export function stallMargin(timeoutMs: number): number {
  return Math.max(250, timeoutMs / 4);
}

export function applyHostStall(findings: readonly Finding[], stall: StallReport, timeoutMs: number): Finding[] {
  if (stall.maxStallMs < stallMargin(timeoutMs)) return [...findings];
  const host = finding(HOST.stalled, `the process could not run for up to ${stall.maxStallMs} ms at a time (${stall.totalStallMs} ms in all) against deadlines of ${timeoutMs} ms`);
  return [host, ...findings.map((f) => (TIMEOUT_FINDINGS.has(f.id) ? { ...f, severity: 'warning' as const, causedBy: HOST.stalled.id } : f))];
}
