// What belongs to each agent check, a group of rows of the check table: its
// rows, its report sections, its findings and its check lines. The agent's
// check states, its metrics and its status page read this, so a row added to
// the table is scheduled, exported and drawn with its group.
import type { CheckLine } from '../diagnosis/check.js';
import type { Finding } from '../diagnosis/finding.js';
import type { CheckGroup } from './groups.js';
import { CHECK_TABLE } from './table.js';
import type { CheckId, ReportSectionKey } from './types.js';

const GROUP_OF = new Map<string, CheckGroup>(CHECK_TABLE.map((r) => [r.id, r.group]));

/** The group a check (a row id, as findings and lines carry it) belongs to. */
export function groupOfCheck(id: string | undefined): CheckGroup | undefined {
  return id === undefined ? undefined : GROUP_OF.get(id);
}

/** The rows of a group, in table order. */
export function checksOfGroup(group: CheckGroup): readonly CheckId[] {
  return CHECK_TABLE.filter((r) => r.group === group).map((r) => r.id);
}

/** The report sections the rows of the given groups fill, in table order. */
export function sectionsOfGroups(groups: ReadonlySet<CheckGroup>): ReportSectionKey[] {
  return [...new Set(CHECK_TABLE.filter((r) => groups.has(r.group)).map((r) => r.section))];
}

/**
 * The findings a group answers for: those its rows raised. A finding of no row (the host's own,
 * HOST-001) goes with every group, since it bears on every timing.
 */
export function ownedFindings(findings: readonly Finding[], group: CheckGroup | 'all'): Finding[] {
  if (group === 'all') return [...findings];
  return findings.filter((f) => f.check === undefined || groupOfCheck(f.check) === group);
}

/**
 * The findings a run of the given groups answers for: their rows', the name's (every check starts from the
 * name) and the host's own. A row a group only needed (the gateway's handshake that gives the revocation
 * check its chain) is its own group's to report.
 */
export function findingsOfRun(findings: readonly Finding[], groups: ReadonlySet<CheckGroup>): Finding[] {
  return findings.filter((f) => {
    const group = groupOfCheck(f.check);
    return group === undefined || group === 'nameResolution' || groups.has(group);
  });
}

/** The check lines of a group's rows. */
export function ownedLines(lines: readonly CheckLine[], group: CheckGroup): CheckLine[] {
  return lines.filter((l) => groupOfCheck(l.check) === group);
}
