// A list of TCP ports on one address, classified (open, closed, filtered,
// unreachable): the redirect range sample, `--scan-ports`. The scanning itself
// is src/net/port-scan.ts.
import { scanPorts, type PortScanResult } from '../net/port-scan.js';
import type { Probe } from './context.js';

export type { PortCounts, PortProbe, PortScanResult } from '../net/port-scan.js';

export interface PortsInput {
  readonly address: string;
  readonly ports: readonly number[];
  /** Connections in flight at once; default all of them (the list is short). */
  readonly concurrency?: number;
  /** Connection attempts started per second; default unlimited. */
  readonly ratePerSecond?: number;
}

/** Every port connected to at once (or `concurrency` at a time), each bounded by the probe's deadline. */
export const probePorts: Probe<PortsInput, PortScanResult> = (input, ctx) =>
  scanPorts(input.address, input.ports, { guard: ctx.guard, timeoutMs: ctx.timeoutMs, signal: ctx.signal,
    concurrency: input.concurrency ?? input.ports.length, ratePerSecond: input.ratePerSecond ?? 0 });
