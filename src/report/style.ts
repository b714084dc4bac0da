// Marks and colour for text output. Colour only on a TTY, and never when NO_COLOR is set.
import type { CheckStatus } from '../diagnosis/check.js';
import type { Severity, Verdict } from '../diagnosis/finding.js';

export interface Style {
  mark(status: CheckStatus): string;
  severity(s: Severity): string;
  verdict(v: Verdict): string;
  dim(text: string): string;
  bold(text: string): string;
}

const MARKS: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP', info: 'INFO' };
const COLOURS: Record<CheckStatus, number> = { pass: 32, warn: 33, fail: 31, skip: 90, info: 36 };
const SEVERITY_STATUS: Record<Severity, CheckStatus> = { critical: 'fail', warning: 'warn', info: 'info' };
const VERDICT_STATUS: Record<Verdict, CheckStatus> = { healthy: 'pass', degraded: 'warn', failing: 'fail' };

export function makeStyle(colour: boolean): Style {
  const paint = (code: number, text: string): string => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  return {
    mark: (status) => paint(COLOURS[status], `[${MARKS[status]}]`),
    severity: (s) => paint(COLOURS[SEVERITY_STATUS[s]], s.toUpperCase()),
    verdict: (v) => paint(COLOURS[VERDICT_STATUS[v]], v.toUpperCase()),
    dim: (text) => paint(90, text),
    bold: (text) => paint(1, text),
  };
}

export function wantsColour(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): boolean {
  return stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  return seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(2)} s`;
}
