/** What the registrar and the call engine ask before checking a password, and tell after a wrong one. */
export interface FailureThrottle {
  isThrottled(address: string): boolean;
  recordFailure(address: string): void;
}

/**
 * Counts failed SIP authentications per source address in fixed one-minute
 * windows. Past the limit the address is refused without a challenge until
 * the window ends, so a password-guessing flood costs almost nothing and
 * other addresses are unaffected. Kept in memory: it is checked on every
 * request and must not add a round trip.
 */
export class AuthThrottle implements FailureThrottle {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(limit: number, windowMs = 60_000) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  isThrottled(address: string, now = Date.now()): boolean {
    const w = this.windows.get(address);
    return Boolean(w && now - w.start < this.windowMs && w.failures >= this.limit);
  }

  /** When an address now refused is accepted again; null when it is not refused. */
  throttledUntil(address: string, now = Date.now()): number | null {
    const w = this.windows.get(address);
    return w && this.isThrottled(address, now) ? w.start + this.windowMs : null;
  }

  recordFailure(address: string, now = Date.now()): void {
    const w = this.windows.get(address);
    if (!w || now - w.start >= this.windowMs) this.windows.set(address, { start: now, failures: 1 });
    else w.failures++;
    if (this.windows.size > 100_000) this.sweep(now);
  }

  private sweep(now: number) {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
  }
}
