// The state of one run of one agent check: its own findings decide it, and a
// check that could not run because what it needs was missing says so ("not
// reached because ...") instead of failing with no finding of its own. What a
// check needs, and why it was not reached, is the check table's: the report's
// lines of the check's rows say it (src/checks/table.ts, `reach`).
import type { AgentCheck } from '../config/schema.js';
import { ownedFindings, ownedLines } from '../checks/by-group.js';
import { NOT_REACHED } from '../checks/report.js';
import { verdictOf, type Finding, type Verdict } from '../diagnosis/finding.js';
import type { DiagnosisReport } from '../diagnosis/report.js';

export type CheckState = Verdict | 'not-reached' | 'error';

export interface CheckStatus {
  readonly state: CheckState;
  /** Why it did not run or complete, or what it found there was nothing to check. */
  readonly reason?: string;
  /** The check's own findings (name findings belong to the name resolution check). */
  readonly findings: readonly Finding[];
}

/** The state of a run: from its report, or the reason it did not complete. */
export function checkStatus(check: AgentCheck, outcome: { readonly report?: DiagnosisReport | undefined; readonly error?: string | undefined }): CheckStatus {
  const { report } = outcome;
  if (!report) return { state: 'error', reason: `did not complete: ${outcome.error ?? 'unknown error'}`, findings: [] };
  const findings = ownedFindings(report.findings, check);
  const lines = ownedLines(report.checks, check);
  // The first of its rows that could not run because what it needs failed.
  const missed = lines.find((l) => l.skipped === 'not-reached');
  const notReached = missed ? { state: 'not-reached' as const, reason: `not reached because ${missed.detail.slice(NOT_REACHED.length)}`, findings } : undefined;
  // Only when none of its rows ran is the check as a whole not reached (or not applicable).
  if (lines.length > 0 && lines.every((l) => l.skipped !== undefined)) {
    return notReached ?? { state: verdictOf(findings), reason: `not applicable: ${lines[0]?.detail ?? ''}`, findings };
  }
  // A row that ran but whose every line is skipped (the address guard refused all it would probe).
  const refused = lines.length > 0 && lines.every((l) => l.status === 'skip') ? lines[0] : undefined;
  if (refused) return { state: 'not-reached', reason: `not reached because ${refused.detail}`, findings };
  // A row that could not run while the others passed (the chain the revocation check reads, with the
  // name or the gateway down): the check did not reach all it checks, and says what it missed. What the
  // others found stands when it is a problem.
  const verdict = verdictOf(findings);
  return notReached && verdict === 'healthy' ? notReached : { state: verdict, findings };
}

/**
 * The state as a change log shows it: "failing: DNS-001", "healthy", "not reached because ...". A
 * change of state, of the ids of its critical and warning findings, or of why it did not run is a
 * change; info findings come and go (a login rate-limited on one run, done on the next) and are not.
 */
export function stateKey(status: CheckStatus | undefined): string {
  if (!status) return 'none';
  if (status.state === 'not-reached' || status.state === 'error') return status.reason ?? status.state;
  const ids = [...new Set(status.findings.filter((f) => f.severity !== 'info').map((f) => f.id))].sort().join(', ');
  return ids ? `${status.state}: ${ids}` : status.state;
}
