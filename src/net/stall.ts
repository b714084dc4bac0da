// How long this process itself could not run during a diagnosis: its event loop was
// busy with our own work, or the host did not schedule it (both cores taken by
// others). A stall longer than a deadline's margin can turn into a "timeout" that is
// this host's, not the network's; the report says so instead of blaming the network.
//
// API: startStallMonitor() -> { stop(): StallReport }
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface StallReport {
  /** The longest time a timer fired late (ms): how long the process could not react. */
  readonly maxStallMs: number;
  /** The 99th percentile of those delays (ms). */
  readonly p99StallMs: number;
}

export interface StallMonitor {
  stop(): StallReport;
}

/** Samples the event loop's delay every 10 ms (libuv's timer, no JavaScript wake-ups) until stop(). */
export function startStallMonitor(): StallMonitor {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    stop(): StallReport {
      histogram.disable();
      // The histogram counts the sampling interval itself in each delay; what is above it is the stall.
      const ms = (ns: number): number => Math.max(0, Math.round(ns / 1e6 - 10));
      return { maxStallMs: histogram.count > 0 ? ms(histogram.max) : 0, p99StallMs: histogram.count > 0 ? ms(histogram.percentile(99)) : 0 };
    },
  };
}
