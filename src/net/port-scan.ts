// Scanning a list of TCP ports on one address with the shared classifier
// (src/net/tcp.ts), with a concurrency cap, a start-rate limit and an overall
// deadline. The port probes (src/probes/port-scan.ts) and `--scan-ports` use it.
//
//   parsePortSpec(text): number[]                       "9000,9003,1400-1500" -> ports (RangeError on bad input)
//   scanPorts(address, ports, opts): Promise<PortScanResult>   never throws
import { isIP } from 'node:net';
import { deadlineSignal, onAbort, secondsSince } from './deadline.js';
import type { AddressGuard } from './guard.js';
import { tcpConnect, type PortState, type TcpErrorCode } from './tcp.js';

/** At most this many ports in one scan (the whole TCP port space). */
export const MAX_SCAN_PORTS = 65535;

export interface PortProbe {
  readonly port: number;
  readonly state: PortState | 'error';
  /** Absent when open. */
  readonly code?: TcpErrorCode;
  readonly seconds: number;
  readonly message?: string;
}

export type PortCounts = Record<PortState | 'error', number>;

export interface ScanOptions {
  readonly guard: AddressGuard;
  /** Per-port connect timeout (a silent port is "filtered" after it). */
  readonly timeoutMs: number;
  /** The whole scan's budget; ports not started (or not finished) by then are listed in `skipped`. */
  readonly deadlineMs?: number;
  readonly signal?: AbortSignal;
  /** Connections in flight at once (default 64). */
  readonly concurrency?: number;
  /** Connection attempts started per second (default 500; 0 = unlimited). */
  readonly ratePerSecond?: number;
}

export type PortScanResult =
  | { readonly ok: true; readonly address: string; readonly ports: readonly PortProbe[]; readonly skipped: readonly number[];
      readonly counts: PortCounts; readonly seconds: number }
  | { readonly ok: false; readonly address: string; readonly code: 'GUARD_DENIED' | 'BAD_ADDRESS'; readonly message: string;
      readonly seconds: number };

/** Parses "9000", "9000,9003", "1-1024", "80,443,11000-11999" into a de-duplicated, ordered port list. */
export function parsePortSpec(text: string): number[] {
  const out = new Set<number>();
  for (const raw of text.split(',')) {
    const item = raw.trim();
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(item);
    if (!m) throw new RangeError(`"${item}" is not a port or a port range (expected e.g. 9000 or 11000-11999)`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a < 1 || b > 65535 || a > b) throw new RangeError(`"${item}" is outside 1-65535 or reversed`);
    for (let p = a; p <= b; p++) out.add(p);
  }
  if (out.size > MAX_SCAN_PORTS) throw new RangeError(`too many ports (${out.size})`);
  return [...out].sort((x, y) => x - y);
}

export function emptyCounts(): PortCounts {
  return { open: 0, closed: 0, filtered: 0, unreachable: 0, error: 0 };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    // One listener on the signal however many workers sleep on it (src/net/deadline.ts).
    const release = onAbort(signal, done);
    function done(): void {
      clearTimeout(timer);
      release();
      resolve();
    }
  });
}

export async function scanPorts(address: string, ports: readonly number[], opts: ScanOptions): Promise<PortScanResult> {
  const started = performance.now();
  if (isIP(address) === 0) {
    return { ok: false, address, code: 'BAD_ADDRESS', message: `${address} is not an IP address`, seconds: 0 };
  }
  if (!opts.guard.allows(address)) {
    return { ok: false, address, code: 'GUARD_DENIED', seconds: 0,
      message: `address ${address} is outside the allowed ranges (${opts.guard.describe().join(', ')})` };
  }
  const overall = opts.deadlineMs !== undefined ? deadlineSignal({ timeoutMs: opts.deadlineMs, signal: opts.signal })
    : (opts.signal ?? new AbortController().signal);
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? 64, ports.length || 1));
  const rate = opts.ratePerSecond ?? 500;
  const interval = rate > 0 ? 1000 / rate : 0;
  let nextSlot = performance.now();
  const results = new Map<number, PortProbe>();
  const skipped: number[] = [];
  let index = 0;

  const worker = async (): Promise<void> => {
    for (;;) {
      if (overall.aborted) return;
      const i = index++;
      if (i >= ports.length) return;
      const port = ports[i] as number;
      if (interval > 0) {
        const now = performance.now();
        const slot = Math.max(now, nextSlot);
        nextSlot = slot + interval;
        await sleep(slot - now, overall);
        if (overall.aborted) {
          skipped.push(port);
          continue;
        }
      }
      const r = await tcpConnect(address, port, { guard: opts.guard, timeoutMs: opts.timeoutMs, signal: overall });
      if (!r.ok && r.code === 'ABORTED') {
        skipped.push(port);
        continue;
      }
      results.set(port, r.ok ? { port, state: 'open', seconds: r.connectSeconds }
        : { port, state: r.state, code: r.code, seconds: r.connectSeconds, message: r.message });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // Ports never picked up because the budget ran out.
  for (let i = index; i < ports.length; i++) skipped.push(ports[i] as number);
  const probes = ports.flatMap((p) => results.get(p) ?? []);
  const counts = emptyCounts();
  for (const p of probes) counts[p.state]++;
  return { ok: true, address, ports: probes, skipped: [...new Set(skipped)].sort((a, b) => a - b), counts, seconds: secondsSince(started) };
}
