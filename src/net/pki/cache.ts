// A small cache for CRLs, OCSP answers and CA-issuer certificates, valid until
// the answer's nextUpdate (capped by maxAgeMs) and bounded in entries. The
// clock is injectable so tests can move time.

export interface CacheOptions {
  /** Milliseconds since the epoch. Default Date.now. */
  readonly now?: () => number;
  /** Upper bound on any entry's life. Default 24 h. */
  readonly maxAgeMs?: number;
  /** Life of entries without nextUpdate (CA certificates, CRLs without nextUpdate). Default 1 h. */
  readonly defaultTtlMs?: number;
  /** Oldest entries are dropped beyond this. Default 10 000. */
  readonly maxEntries?: number;
}

export class RevocationCache {
  private readonly entries = new Map<string, { value: unknown; expires: number }>();
  private readonly clock: () => number;
  private readonly maxAgeMs: number;
  private readonly defaultTtlMs: number;
  private readonly maxEntries: number;
  hits = 0;
  misses = 0;

  constructor(opts: CacheOptions = {}) {
    this.clock = opts.now ?? Date.now;
    this.maxAgeMs = opts.maxAgeMs ?? 86_400_000;
    this.defaultTtlMs = opts.defaultTtlMs ?? 3_600_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  now(): number {
    return this.clock();
  }

  get<T>(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expires > this.clock()) {
      this.hits++;
      return entry.value as T;
    }
    if (entry) this.entries.delete(key);
    this.misses++;
    return undefined;
  }

  /** Stores until `nextUpdate` (or the default TTL), never beyond maxAgeMs; nothing already expired is stored. */
  set(key: string, value: unknown, nextUpdate?: Date): void {
    const now = this.clock();
    const expires = Math.min(nextUpdate ? nextUpdate.getTime() : now + this.defaultTtlMs, now + this.maxAgeMs);
    if (expires <= now) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expires });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  private readonly inflight = new Map<string, Promise<unknown>>();

  /** Runs `fn` once for concurrent callers of the same key (one fetch for many chains sharing a CRL). */
  async coalesce<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const pending = this.inflight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const p = fn().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
