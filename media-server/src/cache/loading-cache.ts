import { BoundedMap } from './bounded-map.ts';

/**
 * Values by key, loaded on a miss and kept briefly: what the SIP edge reads on
 * every REGISTER or call (device credentials, an account's routing settings)
 * should not cost a database query each time, and a flood of unknown keys
 * should not reach the database at all (misses are cached too, shorter).
 * Bounded: past `maxEntries` the oldest entry goes, so a flood of unknown
 * names pushes out its own misses rather than every phone's entry at once.
 */
export class LoadingCache<V> {
  private readonly entries: BoundedMap<string, { value: V | null; at: number }>;
  private readonly load: (key: string) => Promise<V | null | undefined>;
  readonly ttlMs: number;
  private readonly negativeTtlMs: number;

  constructor(load: (key: string) => Promise<V | null | undefined>, ttlMs: number, negativeTtlMs = Math.min(ttlMs, 5_000), maxEntries = 50_000) {
    this.entries = new BoundedMap(maxEntries);
    this.load = load;
    this.ttlMs = ttlMs;
    this.negativeTtlMs = negativeTtlMs;
  }

  async get(key: string, now = Date.now()): Promise<V | null> {
    const hit = this.entries.get(key);
    if (hit && now - hit.at < (hit.value === null ? this.negativeTtlMs : this.ttlMs)) return hit.value;
    const value = (await this.load(key)) ?? null;
    this.entries.set(key, { value, at: now });
    return value;
  }

  invalidate(key: string): void {
    this.entries.delete(key);
  }

  /** Drops the entries whose value (null for a cached miss) matches. */
  invalidateWhere(matches: (value: V | null) => boolean): void {
    for (const [key, entry] of this.entries) if (matches(entry.value)) this.entries.delete(key);
  }
}
