// When a cron expression fires next: node-cron parses the expression (and the
// schema validates it with node-cron), and the next time is found here from the
// parsed fields with Date's own local-time getters. node-cron's own tasks work
// out the same through Intl.DateTimeFormat on every tick, which maps ICU's data
// into a process that otherwise never needs it: about 8 MiB resident of an
// agent that should stay under 80. Expressions with node-cron's special day
// fields (L, W, #) get no clock here; the scheduler leaves them to node-cron.
import cron from 'node-cron';

export interface CronClock {
  /** The first time after `after` (whole seconds) the expression matches; undefined if none within fifty years. */
  next(after: Date): Date | undefined;
  /** The next `count` times from now (what node-cron's getNextRuns gives). */
  getNextRuns(count: number): Date[];
}

/** Gives up after this many steps (each step skips a whole month, day, hour, minute or second). */
const MAX_STEPS = 100_000;
const MAX_YEARS = 50;

export function cronClock(expression: string): CronClock | undefined {
  const f = cron.parse(expression);
  const fields = [f.second, f.minute, f.hour, f.dayOfMonth, f.month, f.dayOfWeek] as ReadonlyArray<ReadonlyArray<number | string>>;
  if (!fields.every((values) => values.length > 0 && values.every((v) => typeof v === 'number'))) return undefined;
  const [second, minute, hour, dayOfMonth, month, dayOfWeek] = fields.map((values) => new Set((values as number[]).map((v) => v))) as [
    Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  // Sunday is 0 or 7.
  if (dayOfWeek.has(7)) dayOfWeek.add(0);

  const next = (after: Date): Date | undefined => {
    const d = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
    const limit = after.getTime() + MAX_YEARS * 366 * 86_400_000;
    for (let step = 0; step < MAX_STEPS && d.getTime() <= limit; step++) {
      if (!month.has(d.getMonth() + 1)) {
        d.setMonth(d.getMonth() + 1, 1);
        d.setHours(0, 0, 0, 0);
      } else if (!dayOfMonth.has(d.getDate()) || !dayOfWeek.has(d.getDay())) {
        // node-cron needs both day fields to match (not either, as Vixie cron does).
        d.setDate(d.getDate() + 1);
        d.setHours(0, 0, 0, 0);
      } else if (!hour.has(d.getHours())) {
        d.setHours(d.getHours() + 1, 0, 0, 0);
      } else if (!minute.has(d.getMinutes())) {
        d.setMinutes(d.getMinutes() + 1, 0, 0);
      } else if (!second.has(d.getSeconds())) {
        d.setSeconds(d.getSeconds() + 1, 0);
      } else {
        return d;
      }
    }
    return undefined;
  };

  return {
    next,
    getNextRuns(count) {
      const out: Date[] = [];
      let at = new Date();
      for (let i = 0; i < count; i++) {
        const n = next(at);
        if (!n) break;
        out.push(n);
        at = n;
      }
      return out;
    },
  };
}

/** A task on a CronClock: calls `onTick` at each match, or `onMissed` for a match it reached too late. */
export class ClockTask {
  private timer: NodeJS.Timeout | undefined;
  private due: Date | undefined;
  private stopped = true;

  constructor(private readonly clock: CronClock, private readonly onTick: () => void,
    private readonly opts: { readonly missedToleranceMs: number; readonly onMissed?: (at: Date) => void }) {}

  getNextRuns(count: number): Date[] {
    return this.clock.getNextRuns(count);
  }

  start(): void {
    this.stopped = false;
    this.arm(new Date());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(after: Date): void {
    if (this.stopped) return;
    const due = this.clock.next(after);
    this.due = due;
    if (!due) return;
    // setTimeout holds at most 2^31-1 ms (24.8 days); a longer wait re-arms on the way.
    const wait = Math.min(2 ** 31 - 1, Math.max(0, due.getTime() - Date.now()));
    this.timer = setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    const due = this.due;
    if (this.stopped || !due) return;
    const now = Date.now();
    if (now < due.getTime()) {
      // Woken early (a long wait re-armed, or a timer firing a millisecond early): wait again for the same tick.
      this.timer = setTimeout(() => this.fire(), Math.min(2 ** 31 - 1, due.getTime() - now));
      return;
    }
    if (now - due.getTime() > this.opts.missedToleranceMs) this.opts.onMissed?.(due);
    else this.onTick();
    // The next match after both the tick and now: a late tick does not fire the slots it overran.
    this.arm(new Date(Math.max(now, due.getTime())));
  }
}
