import { BoundedMap } from '../../cache/bounded-map.ts';

/**
 * A token bucket per source address: `perSecond` on average, bursts of
 * `burst`. Checked before anything is sent back to an address that has not
 * authenticated, so a flood from one address gets a bounded number of
 * answers (and a spoofed source cannot turn us into an amplifier). The table
 * is bounded; when full, the address seen least recently goes, and comes
 * back with a full bucket.
 */
export class SourceRateLimit {
  private readonly perMs: number;
  private readonly burst: number;
  private readonly buckets: BoundedMap<string, { tokens: number; at: number }>;

  constructor(opts: { perSecond: number; burst: number; maxSources?: number }) {
    this.perMs = opts.perSecond / 1000;
    this.burst = opts.burst;
    this.buckets = new BoundedMap(opts.maxSources ?? 50_000);
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Takes a token for `address`; false when its bucket is empty. */
  take(address: string, now = performance.now()): boolean {
    const b = this.buckets.get(address);
    const tokens = b ? Math.min(this.burst, b.tokens + (now - b.at) * this.perMs) : this.burst;
    const ok = tokens >= 1;
    this.buckets.set(address, { tokens: ok ? tokens - 1 : tokens, at: now });
    return ok;
  }
}
