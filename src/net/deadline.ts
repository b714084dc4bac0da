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

/** A signal that aborts at the deadline or when the parent aborts, and its release. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** Clears the timer and detaches from the parent; call it when the operation has ended. */
  done(): void;
}

/** What waits on each signal through onAbort(), behind the one listener that signal holds. */
const waiting = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `fn` when `signal` aborts (not when it already has: check `aborted` first, as with
 * addEventListener); returns the function that stops waiting. However many operations wait on
 * one signal, it holds one listener: a diagnosis fans out to dozens of lookups, connections and
 * fetches under its run's signal, and a listener each made Node warn of a leak
 * (MaxListenersExceededWarning) where there was none.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) return () => undefined;
  let set = waiting.get(signal);
  if (!set) {
    const callbacks = new Set<() => void>();
    set = callbacks;
    waiting.set(signal, callbacks);
    signal.addEventListener('abort', () => {
      const due = [...callbacks];
      callbacks.clear();
      for (const cb of due) {
        // As EventTarget does: one failing callback neither stops the others nor is lost.
        try {
          cb();
        } catch (err) {
          queueMicrotask(() => { throw err; });
        }
      }
    }, { once: true });
  }
  // A wrapper per call, so the same function can wait twice and each release removes its own.
  const entry = (): void => fn();
  set.add(entry);
  const callbacks = set;
  return () => { callbacks.delete(entry); };
}

/**
 * Starts a deadline. Unlike AbortSignal.timeout() combined with AbortSignal.any(), its timer is
 * cleared when the operation ends: the agent runs thousands of short probes, and timers left to
 * fire seconds later (each building an exception and an abort event) cost it about a tenth of its CPU.
 */
export function startDeadline(opts: NetOptions): Deadline {
  const timeoutMs = Math.max(1, Math.ceil(opts.timeoutMs));
  const controller = new AbortController();
  const parent = opts.signal;
  let detach = (): void => undefined;
  const timer = setTimeout(() => {
    detach();
    controller.abort(new TimeoutError(timeoutMs));
  }, timeoutMs);
  timer.unref();
  if (parent?.aborted) controller.abort(parent.reason);
  else if (parent) detach = onAbort(parent, () => controller.abort(parent.reason));
  return {
    signal: controller.signal,
    done(): void {
      clearTimeout(timer);
      detach();
    },
  };
}

/** One signal that aborts at the deadline or when the parent aborts (for operations that cannot say when they end). */
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
