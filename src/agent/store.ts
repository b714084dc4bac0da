// The latest result per instance and check, and the exposition lines they render to.
// Lines are rendered when a result arrives, not on every scrape, so a scrape
// copies cached bytes. A check's samples are kept only as those bytes: as
// objects they cost a few KiB per instance (each label set even got a hidden
// class of its own). Each result also keeps its state (check-state.ts) and its
// hops of the path (path.ts) for the status page, and each instance its last
// state changes.
import { CHECK_GROUPS } from '../checks/groups.js';
import type { AgentCheck } from '../config/schema.js';
import type { Finding, Verdict } from '../diagnosis/finding.js';
import { verdictOf } from '../diagnosis/finding.js';
import { linesByFamily } from '../metrics/exposition.js';
import type { InstanceFamily } from '../metrics/families.js';
import { activeFindings, instanceSamples, storeOutcome, type CheckOutcome, type InstanceView, type StoredOutcome } from '../metrics/report.js';
import { checkStatus, stateKey, type CheckState, type CheckStatus } from './check-state.js';
import { HOPS_OF_CHECK, hopsOfRun, type Hop } from './path.js';

/** State changes kept per instance for the status page. */
export const MAX_STATE_CHANGES = 8;
const CHECK_ORDER: readonly AgentCheck[] = CHECK_GROUPS;

export interface WatchedInstance {
  readonly fqdn: string;
  readonly kind: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The checks scheduled for it; results of other checks are dropped (a check switched off stops exporting). */
  readonly checks?: ReadonlySet<AgentCheck>;
}

/** What the status page shows of one run of one check. */
export interface CheckView {
  readonly check: AgentCheck;
  /** Unix time in seconds. */
  readonly completedAt: number;
  readonly durationSeconds: number;
  readonly status: CheckStatus;
  readonly hops: readonly Hop[];
}

export interface StateChange {
  /** Unix time in seconds. */
  readonly at: number;
  readonly check: AgentCheck;
  readonly from: string;
  readonly to: string;
}

interface Entry extends InstanceView {
  readonly outcomes: Map<AgentCheck, StoredOutcome>;
  readonly views: Map<AgentCheck, CheckView>;
  /** Newest first, at most MAX_STATE_CHANGES. */
  changes: StateChange[];
  readonly checks?: ReadonlySet<AgentCheck> | undefined;
  /** All the instance's lines, per family: views into one buffer of its own (see layOut()). */
  lines: Map<InstanceFamily, Buffer>;
  /** Each check's section lines (ports, TLS, DNS ...), per family: views into the same buffer. */
  checkLines: Map<AgentCheck, Map<InstanceFamily, Buffer>>;
}

export interface InstanceStatus {
  readonly fqdn: string;
  readonly kind: string;
  readonly labels: Readonly<Record<string, string>>;
  /** undefined until a check has completed. */
  readonly verdict: Verdict | 'unknown';
  /** When the latest check completed (ISO 8601), if any has. */
  readonly checkedAt?: string;
  readonly checks: ReadonlyArray<{ readonly check: AgentCheck; readonly completedAt: string; readonly durationSeconds: number;
    /** healthy, degraded, failing (from the check's own findings), not-reached or error; `reason` says why. */
    readonly state: CheckState; readonly reason?: string;
    readonly verdict: Verdict | 'error'; readonly error?: string }>;
  /** The path hop by hop: resolvers, address, gateway, node, (public endpoint,) management endpoint, revocation. */
  readonly path: readonly Hop[];
  readonly findings: readonly Finding[];
  /** Newest first. */
  readonly changes: ReadonlyArray<{ readonly at: string; readonly check: AgentCheck; readonly from: string; readonly to: string }>;
}

/** What record() returns: the run's view and the one it replaced (for state-change logging). */
export interface Recorded {
  readonly previous?: CheckView | undefined;
  readonly current: CheckView;
  /** Whether the state (or its findings, or why it did not run) changed. */
  readonly changed: boolean;
}

export class ResultStore {
  private readonly entries = new Map<string, Entry>();

  /** Replaces the watched set; results of instances (and checks) still watched are kept. */
  setInstances(instances: readonly WatchedInstance[]): void {
    const next = new Map<string, Entry>();
    for (const inst of instances) {
      const old = this.entries.get(inst.fqdn);
      const keep = ([check]: [AgentCheck, unknown]): boolean => inst.checks === undefined || inst.checks.has(check);
      const outcomes = new Map([...(old?.outcomes ?? [])].filter(keep));
      const views = new Map([...(old?.views ?? [])].filter(keep));
      const checkLines = new Map([...(old?.checkLines ?? [])].filter(keep));
      const entry: Entry = { ...inst, outcomes, views, checkLines, changes: old?.changes ?? [], lines: new Map() };
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
    // The outcomes hold no section samples (see record()): instanceSamples gives the instance's own lines only.
    const laid = layOut(linesByFamily(instanceSamples(entry)), entry.checkLines);
    entry.lines = laid.lines;
    entry.checkLines = laid.checkLines;
  }

  /** Records an outcome; returns its view and the previous one of the same check. */
  record(fqdn: string, outcome: CheckOutcome): Recorded | undefined {
    const entry = this.entries.get(fqdn);
    if (!entry) return undefined; // removed by a reload while the check ran
    const status = checkStatus(outcome.check, outcome);
    const current: CheckView = { check: outcome.check, completedAt: outcome.completedAt, durationSeconds: outcome.durationSeconds,
      status, hops: hopsOfRun(outcome.check, status, outcome.report) };
    const previous = entry.views.get(outcome.check);
    const from = stateKey(previous?.status);
    const to = stateKey(status);
    const stored = storeOutcome(outcome, fqdn, status.state !== 'not-reached');
    entry.checkLines.set(outcome.check, linesByFamily(stored.samples));
    entry.outcomes.set(outcome.check, { ...stored, samples: [] });
    entry.views.set(outcome.check, current);
    if (from !== to) entry.changes = [{ at: outcome.completedAt, check: outcome.check, from, to }, ...entry.changes].slice(0, MAX_STATE_CHANGES);
    this.refresh(entry);
    return { previous, current, changed: from !== to };
  }

  /** Each instance's exposition lines per family (what /metrics concatenates). */
  *lines(): Iterable<ReadonlyMap<InstanceFamily, Buffer>> {
    for (const entry of this.entries.values()) yield entry.lines;
  }

  status(): InstanceStatus[] {
    return [...this.entries.values()].map((e) => {
      const findings = activeFindings(e);
      const views = CHECK_ORDER.flatMap((c) => { const v = e.views.get(c); return v ? [v] : []; });
      const checks = views.map((v) => {
        const o = e.outcomes.get(v.check);
        return {
          check: v.check, completedAt: new Date(v.completedAt * 1000).toISOString(), durationSeconds: v.durationSeconds,
          state: v.status.state, ...(v.status.reason ? { reason: v.status.reason } : {}),
          verdict: o?.verdict ?? 'error' as const, ...(o?.error ? { error: o.error } : {}),
        };
      });
      const verdict = checks.length === 0 ? 'unknown' as const
        : checks.some((c) => c.verdict === 'error') && verdictOf(findings) !== 'failing' ? 'degraded' as const : verdictOf(findings);
      const latest = Math.max(0, ...views.map((v) => v.completedAt));
      return {
        fqdn: e.fqdn, kind: e.kind, labels: e.labels, verdict, ...(latest > 0 ? { checkedAt: new Date(latest * 1000).toISOString() } : {}),
        checks, path: pathOf(e), findings,
        changes: e.changes.map((c) => ({ at: new Date(c.at * 1000).toISOString(), check: c.check, from: c.from, to: c.to })),
      };
    });
  }
}

/**
 * Copies an instance's lines into one buffer of its own, family by family: its own lines, then each
 * check's. Returns views of each family (what a scrape copies) and of each check's part (copied again
 * when another check's result arrives). Small Buffers are slices of Node's shared 8 KiB pool, and
 * one long-lived slice keeps its whole slab alive: thousands of instances, each refreshed at its own
 * time, pinned several times the bytes they hold.
 */
function layOut(own: ReadonlyMap<InstanceFamily, Buffer>, checks: ReadonlyMap<AgentCheck, ReadonlyMap<InstanceFamily, Buffer>>)
  : { lines: Map<InstanceFamily, Buffer>; checkLines: Map<AgentCheck, Map<InstanceFamily, Buffer>> } {
  const families = new Set<InstanceFamily>(own.keys());
  let total = 0;
  for (const b of own.values()) total += b.length;
  for (const part of checks.values()) {
    for (const [family, b] of part) {
      families.add(family);
      total += b.length;
    }
  }
  const block = Buffer.allocUnsafeSlow(total);
  let at = 0;
  const lines = new Map<InstanceFamily, Buffer>();
  const checkLines = new Map<AgentCheck, Map<InstanceFamily, Buffer>>([...checks.keys()].map((c) => [c, new Map()]));
  for (const family of families) {
    const start = at;
    at += own.get(family)?.copy(block, at) ?? 0;
    for (const [check, part] of checks) {
      const b = part.get(family);
      if (!b) continue;
      const from = at;
      at += b.copy(block, at);
      checkLines.get(check)?.set(family, block.subarray(from, at));
    }
    lines.set(family, block.subarray(start, at));
  }
  return { lines, checkLines };
}

/** The instance's path: each scheduled check's hops, in path order; a check without a result yet says so. */
function pathOf(e: Entry): Hop[] {
  const scheduled = CHECK_ORDER.filter((c) => e.checks === undefined || e.checks.has(c));
  return scheduled.flatMap((check) => {
    const view = e.views.get(check);
    if (view) return [...view.hops];
    const kind = HOPS_OF_CHECK[check][0] ?? 'resolver';
    return [{ kind, label: '', state: 'skip' as const, lines: ['not checked yet'], findings: [] }];
  });
}
