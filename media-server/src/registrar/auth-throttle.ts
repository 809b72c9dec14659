import { BoundedMap } from '../cache/bounded-map.ts';

/** A password check the throttle let through: its slot counts as a failure unless the password turns out right. */
export interface AuthAttempt {
  /** The password was right: give the slot back (once; a second call does nothing). */
  succeeded(): void;
}

/** What the registrar and the call engine ask of the throttle (see AuthThrottle). */
export interface FailureThrottle {
  /**
   * Whether the address (username null) or the (user, address) pair is
   * refused right now; takes nothing. For a request that carries no
   * credentials, so checks no password.
   */
  isThrottled(address: string, username: string | null): boolean;
  /**
   * Before checking the password of `username` from `address`: null when the
   * pair or the address has no slot left in its window (refuse the request
   * without checking), else the slot, taken at once. A check that ends
   * without a verdict (the lookup failed) keeps it, as a failure would.
   */
  admit(address: string, username: string): AuthAttempt | null;
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
 * the limit) against a spray of guesses across many user names.
 *
 * Check and count are one step: admit() takes a slot before the (async)
 * credential lookup, counted as a failure in advance, and the attempt's
 * succeeded() gives it back when the password was right. Asking first and
 * counting after the wrong password would let every guess that arrives
 * while the first ones are still being looked up pass the check; this way
 * at most `limit` passwords per pair, and the ceiling per address, are ever
 * checked in one window, whatever the concurrency. A slot is only given back
 * into the window it was taken from: one taken just before a window ended
 * must not free a slot of the next.
 *
 * Kept in memory and synchronous: it is asked on every request and must not
 * add a round trip; bounded, the oldest windows going first. Registrar
 * threads each keep a copy and tell the others of every slot taken or given
 * back (see sharedThrottle).
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
    return this.isFull(keys.address, now) || (keys.pair !== null && this.isFull(keys.pair, now));
  }

  /** Takes a slot for one password check unless the pair or the address is full; null when refused. */
  admit(address: string, username: string, now = Date.now()): AuthAttempt | null {
    if (this.isThrottled(address, username, now)) return null;
    this.count(address, username, now);
    let open = true;
    return {
      succeeded: () => {
        if (open) this.refund(address, username, now);
        open = false;
      },
    };
  }

  /**
   * A slot another copy of the throttle took at `now` (another registrar thread): counted, never refused.
   * Pass the time the slot was taken, not the time it was heard of: a window this opens then starts no
   * later than the slot, so the slot's refund (`refund(…, takenAt)`) is honoured here too.
   */
  count(address: string, username: string, now = Date.now()): void {
    for (const key of Object.values(throttleKeys(address, username))) {
      const w = this.windows.get(key!);
      if (!w || now - w.start >= this.windowMs) this.windows.set(key!, { start: now, failures: 1 });
      else w.failures++;
    }
  }

  /**
   * Gives back a slot taken at `takenAt` (here or by another copy), if the
   * window it was counted in is still the current one. A window that started
   * after `takenAt` may or may not hold it (a copy counts another's slot when
   * it hears of it): it keeps it, erring on the side of refusing.
   */
  refund(address: string, username: string, takenAt: number, now = Date.now()): void {
    for (const key of Object.values(throttleKeys(address, username))) {
      const w = this.windows.get(key!);
      if (w && now - w.start < this.windowMs && w.start <= takenAt && w.failures > 0) w.failures--;
    }
  }

  private isFull(key: string, now: number): boolean {
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) return false;
    return w.failures >= (key.startsWith('a ') ? this.limit * ADDRESS_CEILING_FACTOR : this.limit);
  }
}

/** One slot taken or given back by a copy of the throttle, as told to the others. */
export interface AuthSlot {
  address: string;
  username: string;
  /** When the slot was taken (Date.now()). */
  at: number;
}

/** Where a copy of the throttle tells the others of its slots. */
export interface ThrottlePeers {
  taken(slot: AuthSlot): void;
  givenBack(slot: AuthSlot): void;
}

/**
 * A copy of the throttle shared with others (the main thread's and each
 * registrar thread's): it admits against its own counts at once and then
 * tells the others, which count the slot when they hear of it. No round trip
 * per request, so not exact across copies: each may admit its slots before
 * it hears of the others', so with N copies at most N × limit passwords per
 * pair (and N × the ceiling per address) are checked in one window, and
 * exactly the limit for requests that all reach one copy (the kernel keeps a
 * peer's address and port on one thread's socket).
 */
export function sharedThrottle(local: AuthThrottle, peers: ThrottlePeers): FailureThrottle {
  return {
    isThrottled: (address, username) => local.isThrottled(address, username),
    admit(address, username) {
      const at = Date.now();
      const attempt = local.admit(address, username, at);
      if (!attempt) return null;
      peers.taken({ address, username, at });
      let open = true;
      return {
        succeeded() {
          if (open) {
            attempt.succeeded();
            peers.givenBack({ address, username, at });
          }
          open = false;
        },
      };
    },
  };
}
