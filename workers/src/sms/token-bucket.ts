/**
 * A token bucket counted in SMS segments: `ratePerSecond` tokens a second, at
 * most `burst` saved up. The clock is passed in, so that the pump and the
 * tests decide what "now" is.
 */
export class TokenBucket {
  /** In thousandths of a token, so that refills add integers (ms × rate) and never drift. */
  private milli: number;
  private updatedAt: number;
  readonly ratePerSecond: number;
  readonly burst: number;

  constructor(ratePerSecond: number, burst: number, now: number) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new RangeError('a token bucket needs a positive rate and a burst of at least 1');
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.milli = burst * 1000;
    this.updatedAt = now;
  }

  private refill(now: number): void {
    if (now > this.updatedAt) {
      this.milli = Math.min(this.burst * 1000, this.milli + (now - this.updatedAt) * this.ratePerSecond);
      this.updatedAt = now;
    }
  }

  /** Milliseconds until one token is there (0: now). */
  waitMs(now: number): number {
    this.refill(now);
    return this.milli >= 1000 ? 0 : Math.ceil((1000 - this.milli) / this.ratePerSecond);
  }

  take(now: number): void {
    this.refill(now);
    this.milli -= 1000;
  }

  /** True once it has refilled completely: an idle sender's bucket can be forgotten. */
  isFull(now: number): boolean {
    this.refill(now);
    return this.milli >= this.burst * 1000;
  }
}

/** The burst a rate allows: a tenth of a second's worth, at least one segment. */
export const burstFor = (ratePerSecond: number): number => Math.max(1, Math.ceil(ratePerSecond / 10));
