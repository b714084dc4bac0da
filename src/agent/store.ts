// The latest result per instance and check, and the samples they render to.
// Samples are computed when a result arrives, not on every scrape, so a
// scrape costs a walk over cached arrays.
import type { AgentCheck } from '../config/schema.js';
import type { Finding, Verdict } from '../diagnosis/finding.js';
import { verdictOf } from '../diagnosis/finding.js';
import { linesByFamily } from '../metrics/exposition.js';
import type { InstanceFamily } from '../metrics/families.js';
import { activeFindings, instanceSamples, storeOutcome, type CheckOutcome, type InstanceView, type Sample, type StoredOutcome } from '../metrics/report.js';

export interface WatchedInstance {
  readonly fqdn: string;
  readonly kind: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The checks scheduled for it; results of other checks are dropped (a check switched off stops exporting). */
  readonly checks?: ReadonlySet<AgentCheck>;
}

interface Entry extends InstanceView {
  readonly outcomes: Map<AgentCheck, StoredOutcome>;
  samples: Sample[];
  /** The samples as exposition lines, per family. */
  lines: Map<InstanceFamily, Buffer>;
}

export interface InstanceStatus {
  readonly fqdn: string;
  readonly kind: string;
  readonly labels: Readonly<Record<string, string>>;
  /** undefined until a check has completed. */
  readonly verdict: Verdict | 'unknown';
  readonly checks: ReadonlyArray<{ readonly check: AgentCheck; readonly completedAt: string; readonly durationSeconds: number;
    readonly verdict: Verdict | 'error'; readonly error?: string }>;
  readonly findings: readonly Finding[];
}

export class ResultStore {
  private readonly entries = new Map<string, Entry>();

  /** Replaces the watched set; results of instances (and checks) still watched are kept. */
  setInstances(instances: readonly WatchedInstance[]): void {
    const next = new Map<string, Entry>();
    for (const inst of instances) {
      const old = this.entries.get(inst.fqdn);
      const outcomes = new Map([...(old?.outcomes ?? [])].filter(([check]) => inst.checks === undefined || inst.checks.has(check)));
      const { checks: _checks, ...view } = inst;
      const entry: Entry = { ...view, outcomes, samples: [], lines: new Map() };
      this.refresh(entry);
      next.set(inst.fqdn, entry);
    }
    this.entries.clear();
    for (const [k, v] of next) this.entries.set(k, v);
  }

  get size(): number {
    return this.entries.size;
  }

  has(fqdn: string): boolean {
    return this.entries.has(fqdn);
  }

  private refresh(entry: Entry): void {
    entry.samples = instanceSamples(entry);
    entry.lines = linesByFamily(entry.samples);
  }

  /** Records an outcome; returns the previous one of the same check (for state-change logging). */
  record(fqdn: string, outcome: CheckOutcome): StoredOutcome | undefined {
    const entry = this.entries.get(fqdn);
    if (!entry) return undefined; // removed by a reload while the check ran
    const previous = entry.outcomes.get(outcome.check);
    entry.outcomes.set(outcome.check, storeOutcome(outcome, fqdn));
    this.refresh(entry);
    return previous;
  }

  /** Every cached sample, instance by instance. */
  *samples(): Iterable<Sample> {
    for (const entry of this.entries.values()) yield* entry.samples;
  }

  /** Each instance's exposition lines per family (what /metrics concatenates). */
  *lines(): Iterable<ReadonlyMap<InstanceFamily, Buffer>> {
    for (const entry of this.entries.values()) yield entry.lines;
  }

  status(): InstanceStatus[] {
    return [...this.entries.values()].map((e) => {
      const findings = activeFindings(e);
      const checks = [...e.outcomes.values()].map((o) => ({
        check: o.check, completedAt: new Date(o.completedAt * 1000).toISOString(), durationSeconds: o.durationSeconds,
        verdict: o.verdict ?? 'error' as const, ...(o.error ? { error: o.error } : {}),
      }));
      const verdict = checks.length === 0 ? 'unknown' as const
        : checks.some((c) => c.verdict === 'error') && verdictOf(findings) !== 'failing' ? 'degraded' as const : verdictOf(findings);
      return { fqdn: e.fqdn, kind: e.kind, labels: e.labels, verdict, checks, findings };
    });
  }
}
