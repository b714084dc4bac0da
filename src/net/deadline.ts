// Deadlines: every network operation takes a timeout and an optional caller
// signal; both end in one AbortSignal the operation listens to.

export interface NetOptions {
  /** Milliseconds the operation may take in all. */
  readonly timeoutMs: number;
  /** The caller's cancellation (shutdown, an outer deadline). */
  readonly signal?: AbortSignal | undefined;
}

export class TimeoutError extends Error {
  readonly code = 'TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/** One signal that aborts at the deadline or when the parent aborts. */
export function deadlineSignal(opts: NetOptions): AbortSignal {
  const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(opts.timeoutMs)));
  return opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
}

/** Milliseconds left of a `timeoutMs` budget started at a `performance.now()` reading (at least 1). */
export function remainingMs(startMs: number, timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs - (performance.now() - startMs)));
}

/** Seconds elapsed since a `performance.now()` reading. */
export function secondsSince(startMs: number): number {
  return Math.round((performance.now() - startMs) * 1000) / 1e6;
}
