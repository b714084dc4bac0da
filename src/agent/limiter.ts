// A counting semaphore: the global limit on checks running at once, and the
// limit on concurrent /probe requests. Waiters leave the queue when their
// signal aborts, so a shutdown never leaves runs queued.
import { onAbort } from '../net/deadline.js';

export class Limiter {
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(readonly max: number) {}

  get running(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** A slot now, or undefined when all are taken. */
  tryAcquire(): (() => void) | undefined {
    if (this.active >= this.max) return undefined;
    this.active += 1;
    return this.releaser();
  }

  /** Waits for a slot; rejects with the signal's reason when it aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        stopWaiting();
        this.active += 1;
        resolve(this.releaser());
      };
      // One listener on the signal however many runs queue behind it (1,000 instances, 32 slots).
      const stopWaiting = signal ? onAbort(signal, () => {
        const i = this.queue.indexOf(grant);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal.reason);
      }) : () => undefined;
      this.queue.push(grant);
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active -= 1;
      const next = this.queue.shift();
      if (next) next();
    };
  }
}
