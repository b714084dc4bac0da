// How long this process itself could not run during a diagnosis: its event loop was
// busy with our own work, or the host did not schedule it (both cores taken by
// others). A stall longer than a deadline's margin can turn into a "timeout" that is
// this host's, not the network's; the report says so instead of blaming the network.
//
// One sampler per process: a 10 ms timer that runs while any monitor is open and
// measures how late it fires. (perf_hooks' monitorEventLoopDelay misses a stall that
// starts before its first sample, which is exactly when a diagnosis sends its first
// queries.)
//
// API: startStallMonitor() -> { stop(): StallReport }
const INTERVAL_MS = 10;

export interface StallReport {
  /** The longest time the process could not react (ms): how late the sampler fired. */
  readonly maxStallMs: number;
  /** All the time lost that way during the monitor's life (ms). */
  readonly totalStallMs: number;
}

export interface StallMonitor {
  stop(): StallReport;
}

interface Open { max: number; total: number }

const open = new Set<Open>();
let timer: NodeJS.Timeout | undefined;
let lastTick = 0;

function tick(): void {
  const now = performance.now();
  const late = Math.max(0, now - lastTick - INTERVAL_MS);
  lastTick = now;
  if (late < 1) return;
  for (const m of open) {
    m.max = Math.max(m.max, late);
    m.total += late;
  }
}

export function startStallMonitor(): StallMonitor {
  const m: Open = { max: 0, total: 0 };
  open.add(m);
  if (!timer) {
    lastTick = performance.now();
    timer = setInterval(tick, INTERVAL_MS);
    timer.unref();
  }
  return {
    stop(): StallReport {
      tick(); // a stall that is still going on when the diagnosis ends counts too
      open.delete(m);
      if (open.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
      }
      return { maxStallMs: Math.round(m.max), totalStallMs: Math.round(m.total) };
    },
  };
}
