// The plan: runs the check table for one target. A check starts when the checks
// it needs and waits for have settled; it runs if it can be reached, else it is
// recorded as "not reached because X" (or off). Independent checks run
// concurrently, so a diagnosis lasts about as long as its slowest path.
//
// Timings are the network's: heavy code loads, and first-use state (TLS
// contexts, the DNS client's first exchange) is built, before the first probe;
// the table's `after` keeps CPU-heavy checks (the login, coverage, revocation)
// off the clocks of the socket-only ones. The process's own stalls are measured
// throughout (HOST-001).
import { startStallMonitor, type StallReport } from '../net/stall.js';
import { prepareTlsContexts } from '../net/tds/tls.js';
import type { CheckLine } from '../diagnosis/check.js';
import type { Finding } from '../diagnosis/finding.js';
import type { ProbeContext } from '../probes/context.js';
import { warmUpProbes } from '../probes/warm-up.js';
import { ALL_GROUPS } from './groups.js';
import { CHECK_TABLE } from './table.js';
import type { CheckId, DataPathSettings, DiagnoseInput, Outcome, Outcomes, PlanRow, PlanState } from './types.js';

export const DEFAULT_DATA_PATH: DataPathSettings = { login: 'none', strict: false, public: false };

/** What one run of the plan gives the diagnosis. */
export interface PlanRun {
  readonly outcomes: Outcomes;
  /** Findings of the checks that ran, in table order, each tagged with its check. */
  readonly findings: readonly Finding[];
  /** Check lines of the checks that ran, by check. */
  readonly lines: ReadonlyMap<CheckId, readonly CheckLine[]>;
  /** The rows that were asked for (with what they need). */
  readonly rows: readonly PlanRow[];
  readonly stall: StallReport;
  /** Seconds spent loading code and building first-use state before the first probe. */
  readonly warmUpSeconds: number;
}

/** The rows of the asked-for groups, plus every row they need, in table order. */
export function rowsFor(input: DiagnoseInput): PlanRow[] {
  const groups = input.checks ?? ALL_GROUPS;
  const wanted = new Set<CheckId>(CHECK_TABLE.filter((r) => groups.has(r.group)).map((r) => r.id));
  for (let grew = true; grew;) {
    grew = false;
    for (const row of CHECK_TABLE) {
      if (!wanted.has(row.id)) continue;
      for (const need of row.needs) if (!wanted.has(need)) { wanted.add(need); grew = true; }
    }
  }
  return CHECK_TABLE.filter((r) => wanted.has(r.id));
}

/** Loads what the rows will need and builds first-use state, before any clock starts. */
async function warmUp(rows: readonly PlanRow[], settings: DataPathSettings): Promise<void> {
  const has = (id: CheckId): boolean => rows.some((r) => r.id === id);
  const revocation = has('revocationEndpoints') || has('chainRevocation') || has('httpsChains');
  await Promise.all([
    revocation ? import('../probes/revocation.js') : undefined,
    revocation ? import('../net/pki/http.js').then((m) => m.warmUpFetch()) : undefined,
    has('login') && settings.login !== 'none' ? import('../probes/login.js') : undefined,
  ]);
  if (has('gateway') || has('publicEndpoint')) prepareTlsContexts(settings.ca);
  await warmUpProbes();
}

function logOutcome(ctx: ProbeContext, check: CheckId, outcome: Outcome<CheckId>, raised: readonly Finding[], ms: number): void {
  if (outcome.state === 'ran') {
    ctx.log.debug({ check, seconds: Math.round(ms) / 1000, findings: raised.map((f) => f.id) }, 'check ran');
  } else {
    ctx.log.debug({ check, because: outcome.because, ...(outcome.state === 'not-reached' && outcome.cause ? { cause: outcome.cause } : {}) },
      outcome.state === 'off' ? 'check off' : 'check not reached');
  }
}

export async function runPlan(input: DiagnoseInput, ctx: ProbeContext): Promise<PlanRun> {
  const settings = input.dataPath ?? DEFAULT_DATA_PATH;
  const rows = rowsFor(input);
  const warmStart = performance.now();
  await warmUp(rows, settings);
  const warmUpSeconds = Math.round(performance.now() - warmStart) / 1000;
  const stallMonitor = startStallMonitor();
  const done: Outcomes = {};
  const findings: Finding[] = [];
  const lines = new Map<CheckId, readonly CheckLine[]>();
  const ids = new Set(rows.map((r) => r.id));
  const settled = new Map<CheckId, Promise<void>>();
  const start = (row: PlanRow): Promise<void> => {
    let p = settled.get(row.id);
    if (!p) {
      const before = [...row.needs, ...row.after].filter((id) => ids.has(id)).map((id) => rows.find((r) => r.id === id) as PlanRow);
      p = Promise.all(before.map(start)).then(async () => {
        const state: PlanState = { input, settings, done, findings };
        const started = performance.now();
        const r = await row.execute(state, ctx);
        logOutcome(ctx, row.id, r.outcome, r.findings, performance.now() - started);
        (done as Record<CheckId, Outcome<CheckId>>)[row.id] = r.outcome;
        findings.push(...r.findings);
        lines.set(row.id, r.lines);
      });
      settled.set(row.id, p);
    }
    return p;
  };
  await Promise.all(rows.map(start));
  const order = new Map(rows.map((r, i) => [r.id, i]));
  const inTableOrder = [...findings].sort((a, b) => (order.get(a.check as CheckId) ?? 0) - (order.get(b.check as CheckId) ?? 0));
  return { outcomes: done, findings: inTableOrder, lines, rows, stall: stallMonitor.stop(), warmUpSeconds };
}
