import { describe, expect, it } from 'vitest';
import type { AccountConfig } from '../../src/routing/account-config.ts';
import { AccountConfigCache } from '../../src/routing/account-config-cache.ts';

/** A configuration snapshot that says which load made it. */
const snapshot = (id: string, version: number): AccountConfig =>
  ({ account: { id, country: 'US', mainNumber: null, companyName: `v${version}`, operatorExtensionId: null, onDemandRecording: false, language: 'en' } }) as unknown as AccountConfig;

/** A loader whose loads the test settles by hand, so that "concurrent" and "during a load" mean exactly that. */
function manualLoader() {
  const pending: { accountId: string; resolve: (c: AccountConfig | null) => void; reject: (e: Error) => void }[] = [];
  const load = (accountId: string) => new Promise<AccountConfig | null>((resolve, reject) => pending.push({ accountId, resolve, reject }));
  return { load, pending };
}

describe('AccountConfigCache', () => {
  it('loads an account once for any number of concurrent misses, then answers from memory', async () => {
    const loader = manualLoader();
    const cache = new AccountConfigCache(loader.load);
    const misses = Array.from({ length: 50 }, () => cache.get('acct-1'));
    expect(loader.pending).toHaveLength(1);
    loader.pending[0]!.resolve(snapshot('acct-1', 1));
    const got = await Promise.all(misses);
    expect(new Set(got).size).toBe(1);
    expect(got[0]!.account.companyName).toBe('v1');
    // Steady state: no load at all.
    expect((await cache.get('acct-1'))!.account.companyName).toBe('v1');
    expect(loader.pending).toHaveLength(1);
    expect(cache.loads).toBe(1);
  });

  it('loads anew on the very next get after an invalidation, and drops a load that was in flight when the change came', async () => {
    const loader = manualLoader();
    const cache = new AccountConfigCache(loader.load);
    const first = cache.get('acct-1');
    // The change is announced while the first load runs: that load may have read the old rows.
    cache.invalidate('acct-1');
    const second = cache.get('acct-1');
    expect(loader.pending).toHaveLength(2);
    loader.pending[1]!.resolve(snapshot('acct-1', 2));
    loader.pending[0]!.resolve(snapshot('acct-1', 1));
    expect((await first)!.account.companyName).toBe('v1');
    expect((await second)!.account.companyName).toBe('v2');
    // The stale load finished last but is not what the cache keeps.
    expect((await cache.get('acct-1'))!.account.companyName).toBe('v2');
    expect(loader.pending).toHaveLength(2);

    cache.invalidate('acct-1');
    const third = cache.get('acct-1');
    expect(loader.pending).toHaveLength(3);
    loader.pending[2]!.resolve(snapshot('acct-1', 3));
    expect((await third)!.account.companyName).toBe('v3');
  });

  it('keeps no unknown account and no failed load: the next call tries again', async () => {
    const loader = manualLoader();
    const cache = new AccountConfigCache(loader.load);
    const unknown = cache.get('nobody');
    loader.pending[0]!.resolve(null);
    expect(await unknown).toBeNull();
    expect(cache.size).toBe(0);
    const failing = cache.get('acct-1');
    loader.pending[1]!.reject(new Error('database down'));
    await expect(failing).rejects.toThrow('database down');
    const retry = cache.get('acct-1');
    expect(loader.pending).toHaveLength(3);
    loader.pending[2]!.resolve(snapshot('acct-1', 1));
    expect((await retry)!.account.id).toBe('acct-1');
  });

  it('is bounded: past maxAccounts the least recently used account goes', async () => {
    const loads: string[] = [];
    const cache = new AccountConfigCache(async (id) => (loads.push(id), snapshot(id, 1)), { maxAccounts: 2 });
    await cache.get('a');
    await cache.get('b');
    await cache.get('a'); // a is now the most recently used
    await cache.get('c'); // b goes
    expect(cache.size).toBe(2);
    await cache.get('a');
    expect(loads).toEqual(['a', 'b', 'c']);
    await cache.get('b');
    expect(loads).toEqual(['a', 'b', 'c', 'b']);
  });

  it('reloads after its TTL, the ceiling for a lost announcement', async () => {
    let now = 0;
    let version = 0;
    const cache = new AccountConfigCache(async (id) => snapshot(id, ++version), { ttlMs: 1000, now: () => now });
    expect((await cache.get('a'))!.account.companyName).toBe('v1');
    now = 999;
    expect((await cache.get('a'))!.account.companyName).toBe('v1');
    now = 1000;
    expect((await cache.get('a'))!.account.companyName).toBe('v2');
  });
});
