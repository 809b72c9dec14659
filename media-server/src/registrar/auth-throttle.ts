import { BoundedMap } from '../cache/bounded-map.ts';

/** What the registrar and the call engine ask before checking a password, and tell after a wrong one. */
export interface FailureThrottle {
  /** `username`: the one the request's credentials claim, null when it carries none. */
  isThrottled(address: string, username: string | null): boolean;
  recordFailure(address: string, username: string): void;
}

/** How many more failures an address may have, over all its users, than one user from it. */
export const ADDRESS_CEILING_FACTOR = 10;

/** The throttle's keys: one per (user, address) pair, and one per address for its ceiling. */
export const throttleKeys = (address: string, username: string | null) => ({
  address: `a ${address}`,
  pair: username === null ? null : `u ${username} ${address}`,
});

/**
 * Counts failed SIP authentications in fixed one-minute windows, per (user,
 * source address) pair: an office behind one NAT address shares it, so one
 * phone with a wrong password must not lock its colleagues out. Past the
 * limit the pair is refused without a challenge until the window ends. An
 * address also has a ceiling over all users (ADDRESS_CEILING_FACTOR times
 * the limit) against a spray of guesses across many user names. Kept in
 * memory: it is checked on every request and must not add a round trip;
 * bounded, the oldest windows going first.
 */
export class AuthThrottle implements FailureThrottle {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly windows: BoundedMap<string, { start: number; failures: number }>;

  constructor(limit: number, windowMs = 60_000, maxEntries = 100_000) {
    this.limit = limit;
    this.windowMs = windowMs;
    this.windows = new BoundedMap(maxEntries);
  }

  get size(): number {
    return this.windows.size;
  }

  isThrottled(address: string, username: string | null, now = Date.now()): boolean {
    const keys = throttleKeys(address, username);
    return this.keyUntil(keys.address, now) !== null || (keys.pair !== null && this.keyUntil(keys.pair, now) !== null);
  }

  /** When a throttle key now refused (see throttleKeys) is accepted again; null when it is not refused. */
  keyUntil(key: string, now = Date.now()): number | null {
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) return null;
    return w.failures >= (key.startsWith('a ') ? this.limit * ADDRESS_CEILING_FACTOR : this.limit) ? w.start + this.windowMs : null;
  }

  recordFailure(address: string, username: string, now = Date.now()): void {
    const keys = throttleKeys(address, username);
    this.count(keys.address, now);
    this.count(keys.pair!, now);
  }

  private count(key: string, now: number) {
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) this.windows.set(key, { start: now, failures: 1 });
    else w.failures++;
  }
}
