// The host's own stalls against the deadlines: a stall that ate a good part of a
// deadline turns the timeouts seen meanwhile into consequences of HOST-001 instead of
// network criticals. Pure: stall figures and findings in, findings out.
import type { StallReport } from '../net/stall.js';
import { HOST } from './catalog/host.js';
import { finding, type Finding, type Severity } from './finding.js';

/**
 * The error codes that mean "no answer in time", as the rules quote them in evidence (`CODE: message`):
 * DNS_TIMEOUT, TCP_TIMEOUT, TDS_TIMEOUT, TLS_TIMEOUT, LOGIN_TIMEOUT, HTTP_TIMEOUT, HTTP_HEADERS_TIMEOUT
 * (REV-017: no HTTP response headers within the deadline), and whatever *_TIMEOUT a probe adds later;
 * Node's ETIMEDOUT and tedious' ETIMEOUT too.
 */
const TIMEOUT_CODE = /\b(?:[A-Z][A-Z0-9_]*_TIMEOUT|ETIMEDOUT|ETIMEOUT)\b/;

/** Findings that are about time itself, with no error code: a fetch that answered, but slowly (REV-009). */
const SLOW_FINDINGS: ReadonlySet<string> = new Set(['REV-009']);

/** Whether a finding says "no answer in time" (or "slow"): what a stalled process can cause by itself. */
export function isTimeoutFinding(f: Finding): boolean {
  return SLOW_FINDINGS.has(f.id) || TIMEOUT_CODE.test(f.evidence);
}

/** A stall above a quarter of the deadline (and at least 250 ms) is the host's problem, not noise. */
export function stallMargin(timeoutMs: number): number {
  return Math.max(250, timeoutMs / 4);
}

const LESS_SEVERE: Readonly<Record<Severity, Severity>> = { critical: 'warning', warning: 'warning', info: 'info' };

export function applyHostStall(findings: readonly Finding[], stall: StallReport, timeoutMs: number): Finding[] {
  if (stall.maxStallMs < stallMargin(timeoutMs)) return [...findings];
  const host = finding(HOST.stalled, `the process could not run for up to ${stall.maxStallMs} ms at a time (${stall.totalStallMs} ms in all) against deadlines of ${timeoutMs} ms`);
  // A timeout already explained by another finding (a silent resolver, DNS-002) keeps that cause; the cause,
  // a timeout itself, is then HOST-001's.
  return [host, ...findings.map((f) => (f.causedBy === undefined && isTimeoutFinding(f)
    ? { ...f, severity: LESS_SEVERE[f.severity], causedBy: HOST.stalled.id } : f))];
}
