import { BoundedMap } from './bounded-map.ts';

export interface AccountCacheOptions {
  /** Accounts kept at once; past it the least recently used goes. */
  maxAccounts?: number;
  /**
   * A ceiling, not the way changes arrive: the app announces every change
   * (contracts/config-changes.ts) and `invalidate` drops the account at once;
   * the TTL only bounds how long a lost announcement can leave a node stale.
   */
  ttlMs?: number;
  now?: () => number;
}

type Entry<T> = { kind: 'loaded'; value: T | null; at: number } | { kind: 'loading'; promise: Promise<T | null> };

/**
 * What media-server reads of each account's configuration (the routing snapshot `AccountConfig`, the
 * IVR, the prompts library), in memory: filled
 * on first use, with one load for any number of concurrent misses of one
 * account (single flight), dropped when the app announces a change, bounded
 * (LRU). A call in steady state reads nothing from the database.
 *
 * A load in flight when the account is invalidated is not kept: it may have
 * read the configuration before the change committed, and the next call starts
 * a load of its own.
 */
export class AccountCache<T> {
  private readonly entries: BoundedMap<string, Entry<T>>;
  private readonly load: (accountId: string) => Promise<T | null>;
  private readonly ttlMs: number;
  private readonly now: () => number;
  /** Loads started, for tests and the bench (a call in steady state starts none). */
  loads = 0;

  constructor(load: (accountId: string) => Promise<T | null>, options: AccountCacheOptions = {}) {
    this.load = load;
    this.entries = new BoundedMap(options.maxAccounts ?? 5_000);
    this.ttlMs = options.ttlMs ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  /** The account's value, null for an account that does not exist (not cached: a flood of unknown ids must not push real accounts out). */
  get(accountId: string): Promise<T | null> {
    const entry = this.entries.get(accountId);
    if (entry?.kind === 'loading') return entry.promise;
    if (entry && this.now() - entry.at < this.ttlMs) {
      this.entries.set(accountId, entry); // least recently used goes first
      return Promise.resolve(entry.value);
    }
    this.loads++;
    const promise = this.load(accountId).then(
      (value) => {
        // Kept only if nothing invalidated the account meanwhile (the entry is still this load).
        if (this.entries.get(accountId) === loading) {
          if (value) this.entries.set(accountId, { kind: 'loaded', value, at: this.now() });
          else this.entries.delete(accountId);
        }
        return value;
      },
      (err: unknown) => {
        if (this.entries.get(accountId) === loading) this.entries.delete(accountId);
        throw err;
      },
    );
    const loading: Entry<T> = { kind: 'loading', promise };
    this.entries.set(accountId, loading);
    return promise;
  }

  /** The app changed the account's configuration: the next call loads it anew. */
  invalidate(accountId: string): void {
    this.entries.delete(accountId);
  }

  get size(): number {
    return this.entries.size;
  }
}
