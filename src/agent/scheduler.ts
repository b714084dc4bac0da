// The schedules: one cron schedule per check kind (node-cron's expressions,
// timed by cron-clock.ts, or by node-cron itself for L, W and #); each tick dispatches that
// check for every instance after a stable per-instance jitter. A run that is
// still going (or still queued) when the next tick comes is skipped, never
// doubled; all runs share one concurrency limit; each has a deadline.
import { createHash } from 'node:crypto';
import cron, { type Logger as CronLogger, type ScheduledTask } from 'node-cron';
import type { AgentCheck, Config } from '../config/schema.js';
import type { AgentMetrics } from '../metrics/registry.js';
import type { PlannedInstance } from './instances.js';
import type { Limiter } from './limiter.js';
import { startDeadline } from '../net/deadline.js';
import { ClockTask, cronClock } from './cron-clock.js';

export interface RunContext {
  readonly instance: PlannedInstance;
  readonly check: AgentCheck;
  /** Aborts at the run's deadline or at shutdown. */
  readonly signal: AbortSignal;
  readonly deadlineMs: number;
}

export type RunCheck = (ctx: RunContext) => Promise<void>;

export interface SchedulerDeps {
  readonly limiter: Limiter;
  readonly metrics: AgentMetrics;
  readonly runCheck: RunCheck;
  /** Aborted at shutdown: queued runs leave, running ones are cancelled. */
  readonly stopSignal: AbortSignal;
  readonly onError?: (err: unknown) => void;
  /** A tick that came more than half a period late (the event loop was blocked) and was dropped. */
  readonly onMissed?: (check: AgentCheck, at: Date) => void;
  /** Where node-cron's own messages go (instead of the console). */
  readonly cronLogger?: CronLogger;
}

/** Fraction in [0, 1) from a stable hash, so an instance's offset stays the same across ticks and restarts. */
export function jitterFraction(fqdn: string, check: string): number {
  return createHash('sha256').update(`${check}\0${fqdn}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** Seconds between two consecutive runs of a cron expression (the jitter must stay well below it). */
export function cronPeriodSeconds(task: Pick<ScheduledTask, 'getNextRuns'>): number {
  const [a, b] = task.getNextRuns(2);
  return a && b ? Math.max(1, (b.getTime() - a.getTime()) / 1000) : 60;
}

/** The longest gap between the next few runs: what "three periods late" is measured against for irregular schedules. */
export function longestGapSeconds(task: Pick<ScheduledTask, 'getNextRuns'>, runs = 8): number {
  const next = task.getNextRuns(runs);
  let gap = 0;
  for (let i = 1; i < next.length; i++) gap = Math.max(gap, ((next[i]?.getTime() ?? 0) - (next[i - 1]?.getTime() ?? 0)) / 1000);
  return gap > 0 ? gap : cronPeriodSeconds(task);
}

export class Scheduler {
  /** The running schedules: a clock of ours, or node-cron's task for what only it knows (L, W, #). */
  private tasks: Array<{ stop(): void }> = [];
  /** Runs waiting for their jitter offset, and their busy keys. */
  private readonly timers = new Map<NodeJS.Timeout, string>();
  /** instance/check keys dispatched and not finished (queued or running). */
  private readonly busy = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private generation = 0;

  constructor(private readonly deps: SchedulerDeps) {}

  get running(): number {
    return this.inFlight.size;
  }

  /**
   * Starts (or replaces) the schedules for these instances. `firstRun` says which instance and
   * check to run at once (with jitter) instead of waiting for the first tick, e.g. every check at
   * start and, after a reload, the checks of instances that have no result yet.
   */
  start(config: Config, instances: readonly PlannedInstance[], firstRun?: (instance: PlannedInstance, check: AgentCheck) => boolean): void {
    this.stopSchedules();
    const generation = ++this.generation;
    const checks = Object.entries(config.agent.schedules) as Array<[AgentCheck, Config['agent']['schedules'][AgentCheck]]>;
    this.deps.metrics.checkInterval.reset();
    for (const [check, schedule] of checks) {
      if (!schedule.enabled) continue;
      const targets = instances.filter((i) => i.checks.has(check));
      if (targets.length === 0) continue;
      const onTick = (): void => {
        if (generation !== this.generation) return;
        this.tick(check, targets, schedule.deadlineMs, Math.min(config.agent.jitterSeconds, period / 2));
      };
      const clock = cronClock(schedule.cron);
      const timing = clock ?? cron.createTask(schedule.cron, () => undefined);
      const period = cronPeriodSeconds(timing);
      this.deps.metrics.checkInterval.set({ check }, longestGapSeconds(timing));
      // A tick late by less than half a period (a busy event loop, a long GC) still runs; node-cron's default drops it after 1 s.
      const missedToleranceMs = Math.max(1000, (period * 1000) / 2);
      if (clock) {
        const task = new ClockTask(clock, onTick, { missedToleranceMs, onMissed: (at) => this.deps.onMissed?.(check, at) });
        task.start();
        this.tasks.push(task);
      } else {
        const task = timing as ScheduledTask;
        void task.destroy();
        const cronTask = cron.createTask(schedule.cron, onTick, { name: `miprobe-${check}`, noOverlap: false,
          missedExecutionTolerance: missedToleranceMs, ...(this.deps.cronLogger ? { logger: this.deps.cronLogger } : {}) });
        cronTask.on('execution:missed', (ctx) => { this.deps.onMissed?.(check, ctx.date); });
        void cronTask.start();
        this.tasks.push({ stop: () => { void cronTask.destroy(); } });
      }
      if (firstRun) {
        const now = targets.filter((i) => firstRun(i, check));
        if (now.length > 0) this.tick(check, now, schedule.deadlineMs, Math.min(config.agent.jitterSeconds, period / 2));
      }
    }
  }

  /** One tick: dispatch the check for every instance after its jitter offset. */
  tick(check: AgentCheck, instances: readonly PlannedInstance[], deadlineMs: number, jitterSeconds: number): void {
    const tickAt = performance.now();
    for (const instance of instances) {
      const offsetMs = jitterSeconds > 0 ? jitterFraction(instance.fqdn, check) * jitterSeconds * 1000 : 0;
      const key = `${check}\0${instance.fqdn}`;
      if (this.busy.has(key)) {
        this.deps.metrics.checksSkipped.inc({ check });
        continue;
      }
      this.busy.add(key);
      const go = (): void => { this.dispatch(key, { instance, check, deadlineMs }, tickAt + offsetMs); };
      if (offsetMs < 1) go();
      else {
        const timer = setTimeout(() => { this.timers.delete(timer); go(); }, offsetMs);
        this.timers.set(timer, key);
      }
    }
  }

  /** Runs one check now (after the limiter), outside the schedule; used by tests and the first round. */
  runNow(check: AgentCheck, instances: readonly PlannedInstance[], deadlineMs: number): void {
    this.tick(check, instances, deadlineMs, 0);
  }

  private dispatch(key: string, run: { instance: PlannedInstance; check: AgentCheck; deadlineMs: number }, plannedAt: number): void {
    const { limiter, metrics, stopSignal } = this.deps;
    const job = (async () => {
      let release: (() => void) | undefined;
      try {
        release = await limiter.acquire(stopSignal);
        metrics.schedulerLag.observe({ check: run.check }, Math.max(0, performance.now() - plannedAt) / 1000);
        const deadline = startDeadline({ timeoutMs: run.deadlineMs, signal: stopSignal });
        try {
          await this.deps.runCheck({ ...run, signal: deadline.signal });
        } finally {
          deadline.done();
        }
      } catch (err) {
        if (!stopSignal.aborted) this.deps.onError?.(err);
      } finally {
        release?.();
        this.busy.delete(key);
      }
    })();
    this.inFlight.add(job);
    void job.finally(() => this.inFlight.delete(job));
  }

  private stopSchedules(): void {
    for (const task of this.tasks) task.stop();
    this.tasks = [];
    // Runs waiting for their jitter offset are dropped: free their keys.
    for (const [timer, key] of this.timers) {
      clearTimeout(timer);
      this.busy.delete(key);
    }
    this.timers.clear();
    this.generation += 1;
  }

  /** Stops the schedules and drops runs still waiting for their offset; runs already dispatched go on. */
  stop(): void {
    this.stopSchedules();
  }

  /** Resolves when every dispatched run has finished, or after `ms` (returns whether all finished). */
  async drain(ms: number): Promise<boolean> {
    if (this.inFlight.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
    const all = Promise.allSettled([...this.inFlight]).then(() => true as const);
    try {
      return await Promise.race([all, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
