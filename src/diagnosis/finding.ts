// A finding: what diagnosis concludes from probe results. Definitions are
// data (see ./catalog/); a finding is a definition plus the evidence seen.

export type Severity = 'critical' | 'warning' | 'info';

export interface FindingDefinition {
  /** Stable id, e.g. DNS-001; never reused for another meaning. */
  readonly id: string;
  readonly severity: Severity;
  readonly title: string;
  /** What to do about it, in one or two sentences. */
  readonly fix: string;
  /** The public documents the requirement comes from: "; "-separated https URLs or docs/ paths, each with an optional "(label)". */
  readonly ref: string;
}

export interface Finding extends FindingDefinition {
  /** What was seen, concretely: names, addresses, codes. */
  readonly evidence: string;
  /** Which instance or subject the finding is about, when several are diagnosed. */
  readonly subject?: string;
  /** The id of the finding this one is a consequence of (e.g. DNS-002, HOST-001): what it reports could not even be tried, or is the host's. */
  readonly causedBy?: string;
  /** The check of the table that raised it (src/checks/table.ts). */
  readonly check?: string;
}

export function finding(def: FindingDefinition, evidence: string, overrides: Partial<FindingDefinition> = {}): Finding {
  return { ...def, ...overrides, evidence };
}

export type Verdict = 'healthy' | 'degraded' | 'failing';

export function verdictOf(findings: readonly Finding[]): Verdict {
  if (findings.some((f) => f.severity === 'critical')) return 'failing';
  if (findings.some((f) => f.severity === 'warning')) return 'degraded';
  return 'healthy';
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/**
 * Most severe first, then by `rank` (where the finding's id sits along what was checked), then by id; a finding caused
 * by another comes right after its cause. Stable: findings of one id keep their order.
 */
export function sortFindings<F extends Finding>(findings: readonly F[], rank: (id: string) => number = () => 0): F[] {
  const bySeverity = [...findings].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || rank(a.id) - rank(b.id)
    || a.id.localeCompare(b.id));
  const ids = new Set(bySeverity.map((f) => f.id));
  const roots = bySeverity.filter((f) => f.causedBy === undefined || !ids.has(f.causedBy));
  return roots.flatMap((root, i) => (roots.findIndex((r) => r.id === root.id) === i
    ? [root, ...bySeverity.filter((f) => f.causedBy === root.id && f !== root)]
    : [root]));
}
