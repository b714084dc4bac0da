// One line of the report's check list: what was checked, how it went, how long it took.

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip' | 'info';

export interface CheckLine {
  /** Short, e.g. "DNS 10.0.0.2:53" or "TCP 1433". */
  readonly name: string;
  readonly status: CheckStatus;
  readonly seconds?: number;
  /** What was seen, one line. */
  readonly detail: string;
  /** For a check that was not reached: the finding that stopped it (its id); for one that ran and failed because of another finding: that finding. */
  readonly causedBy?: string;
  /** The check of the table the line is about (src/checks/table.ts). */
  readonly check?: string;
  /** Set when the check did not run: something it needs failed ('not-reached'), or it was not asked for or does not apply ('off'). */
  readonly skipped?: 'not-reached' | 'off';
}

/** How the line of a check that was not reached begins; what follows is why (and, in parentheses, the finding that stopped it). */
export const NOT_REACHED = 'not reached: ';
