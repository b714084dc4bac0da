// Runs a fuzz target: inputs from a fast-check arbitrary under a fixed seed,
// each one given to the parser; counts what came back as the parser's typed
// result or typed error, and every other exception (the "untyped" ones, goal 0),
// times each input in CPU time (the slowest is reported with its size; a slow input
// is timed again and its fastest run counts: a busy machine must not make one) and measures the
// heap before and after (garbage collected both times).
// The tap tests (test/fuzz/*.test.ts) run a few thousand inputs per target;
// bench/fuzz.mjs runs 100,000.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';

/** What a parser did with one input: accepted it, or refused it the documented way. */
export type Verdict = 'ok' | 'typed';

export interface Prepared<T> {
  readonly input: fc.Arbitrary<T>;
  /** Returns the verdict; throws only what the parser should never throw (that is the finding). */
  readonly run: (input: T) => Verdict | Promise<Verdict>;
  /** Size of an input (bytes or characters), for the slowest-input report. */
  readonly size: (input: T) => number;
  /** A short printable view of an input, for reports. */
  readonly show?: (input: T) => string;
  readonly teardown?: () => Promise<void> | void;
}

export interface FuzzTarget<T = unknown> {
  readonly name: string;
  /** What the parser is and what its typed refusal is. */
  readonly contract: string;
  /** Inputs larger than this are refused before parsing (the product's size cap); the time goal holds below it. */
  readonly sizeCap: number;
  /** At most this many inputs whatever was asked (targets that go through real sockets). */
  readonly maxRuns?: number;
  /**
   * How an input's time is measured: 'cpu' (default) is the process's CPU time, which a busy machine
   * does not stretch (the parsers are synchronous work); 'wall' for targets that wait on sockets.
   */
  readonly clock?: 'cpu' | 'wall';
  prepare(): Promise<Prepared<T>>;
}

export interface Untyped {
  readonly message: string;
  readonly input: string;
  readonly raw: unknown;
}

export interface FuzzStats {
  readonly name: string;
  readonly inputs: number;
  readonly ok: number;
  readonly typed: number;
  readonly untyped: number;
  /** The first few untyped exceptions, with the input that caused each. */
  readonly samples: readonly Untyped[];
  /** Distinct untyped messages (first line, numbers masked) with their counts. */
  readonly kinds: ReadonlyMap<string, number>;
  /** The slowest input within the size cap (the time goal is about those). */
  readonly slowestMs: number;
  readonly slowestSize: number;
  readonly slowestInput: string;
  /** The slowest input itself (bench/fuzz.mjs --save writes it out). */
  readonly slowestRaw: unknown;
  /** The slowest input beyond the size cap (refused before parsing in the product), when there was one. */
  readonly slowestBeyondCap?: { readonly ms: number; readonly size: number };
  /** Inputs within the size cap that took more than 100 ms. */
  readonly over100ms: number;
  readonly heapGrowthBytes: number;
  readonly seconds: number;
}

let gcFn: (() => void) | undefined;
function collect(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

/** CPU time of this process (user and system), in milliseconds. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function hexView(x: unknown): string {
  if (Buffer.isBuffer(x)) return `${x.length} bytes: ${x.subarray(0, 48).toString('hex')}${x.length > 48 ? '…' : ''}`;
  if (typeof x === 'string') return `${x.length} chars: ${JSON.stringify(x.slice(0, 120))}${x.length > 120 ? '…' : ''}`;
  try {
    const text = JSON.stringify(x);
    return text === undefined ? String(x) : `${text.slice(0, 160)}${text.length > 160 ? '…' : ''}`;
  } catch (err) {
    return `(unprintable: ${(err as Error).message})`;
  }
}

function kindOf(err: unknown): string {
  const e = err as { name?: string; message?: string };
  const line = `${e?.name ?? typeof err}: ${String(e?.message ?? err).split('\n')[0] ?? ''}`;
  return line.replace(/\d+/g, 'N').slice(0, 140);
}

export interface RunOptions {
  readonly runs: number;
  readonly seed: number;
  /** Inputs generated per fast-check sample call (they are held in memory meanwhile). */
  readonly batch?: number;
  /** Called after each batch (progress). */
  readonly onBatch?: (done: number) => void;
}

export async function runTarget<T>(target: FuzzTarget<T>, opts: RunOptions): Promise<FuzzStats> {
  const prepared = await target.prepare();
  const show = prepared.show ?? hexView;
  const batch = opts.batch ?? 500;
  const runs = Math.min(opts.runs, target.maxRuns ?? Number.POSITIVE_INFINITY);
  const now = target.clock === 'wall' ? (): number => performance.now() : cpuMs;
  let ok = 0;
  let typed = 0;
  let untyped = 0;
  let over100ms = 0;
  const samples: Untyped[] = [];
  const kinds = new Map<string, number>();
  let slowest: { ms: number; size: number; input: string; raw: unknown } = { ms: -1, size: 0, input: '', raw: undefined };
  let beyond: { ms: number; size: number } | undefined;
  // Warm up (first calls compile), then measure the heap.
  for (const x of fc.sample(prepared.input, { seed: opts.seed ^ 0x5eed, numRuns: 20 })) {
    try { await prepared.run(x); } catch { /* counted in the real run */ }
  }
  collect();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  let done = 0;
  for (let b = 0; done < runs; b++) {
    const inputs = fc.sample(prepared.input, { seed: opts.seed + b * 7919, numRuns: Math.min(batch, runs - done) });
    for (const x of inputs) {
      const t0 = now();
      try {
        const v = await prepared.run(x);
        if (v === 'ok') ok++;
        else typed++;
      } catch (err) {
        untyped++;
        const kind = kindOf(err);
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        if (samples.length < 5) samples.push({ message: `${kind}\n${String((err as Error)?.stack ?? '').split('\n').slice(1, 9).join('\n')}`, input: show(x), raw: x });
      }
      let ms = now() - t0;
      // A collection or another thread can still land on one run: an input is only as slow as its
      // fastest of a few runs (a truly slow one is slow every time).
      for (let again = 0; again < 3 && ms > 50; again++) {
        const t1 = now();
        try { await prepared.run(x); } catch { /* counted above */ }
        ms = Math.min(ms, now() - t1);
      }
      const size = prepared.size(x);
      if (ms > 100 && size <= target.sizeCap) over100ms++;
      if (size > target.sizeCap) {
        if (ms > (beyond?.ms ?? -1)) beyond = { ms, size };
      } else if (ms > slowest.ms) {
        slowest = { ms, size, input: show(x), raw: x };
      }
      done++;
    }
    opts.onBatch?.(done);
  }
  const seconds = (performance.now() - started) / 1000;
  collect();
  const heapGrowthBytes = process.memoryUsage().heapUsed - heapBefore;
  await prepared.teardown?.();
  return { name: target.name, inputs: done, ok, typed, untyped, samples, kinds, slowestMs: slowest.ms, slowestSize: slowest.size,
    slowestInput: slowest.input, slowestRaw: slowest.raw, ...(beyond ? { slowestBeyondCap: beyond } : {}), over100ms, heapGrowthBytes, seconds };
}

/** A readable account of the untyped exceptions, for a failing assertion. */
export function describeFailures(stats: FuzzStats): string {
  if (stats.untyped === 0) return '';
  const kinds = [...stats.kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${n} x ${k}`).join('\n');
  const samples = stats.samples.map((s) => `  ${s.message}\n    input: ${s.input}`).join('\n');
  return `${stats.untyped} untyped exception(s) in ${stats.inputs} inputs:\n${kinds}\nexamples:\n${samples}`;
}
