/**
 * Hands out RTP/RTCP port pairs (RTP even, RTCP the odd port above it,
 * RFC 3550 §11) from a configured range. Allocation goes round the range
 * instead of reusing the pair just released, so late packets of a finished
 * call do not land in the next one.
 */
import type { RtpPortRange } from './rtp-port-settings.ts';

export interface RtpPortPair {
  rtp: number;
  rtcp: number;
}

export class RtpPortAllocator {
  readonly range: RtpPortRange;
  private readonly first: number;
  private readonly used: Uint8Array;
  private cursor = 0;
  private inUse = 0;

  constructor(range: RtpPortRange) {
    this.range = range;
    this.first = range.min + (range.min % 2);
    const pairs = Math.floor((range.max - this.first + 1) / 2);
    if (pairs < 1) throw new RangeError(`the port range ${range.min}-${range.max} holds no even/odd pair`);
    this.used = new Uint8Array(pairs);
  }

  get capacity(): number {
    return this.used.length;
  }

  get allocated(): number {
    return this.inUse;
  }

  /** A free pair, or null when the range is exhausted. */
  allocate(): RtpPortPair | null {
    const n = this.used.length;
    for (let i = 0; i < n; i++) {
      const slot = (this.cursor + i) % n;
      if (this.used[slot] === 0) {
        this.used[slot] = 1;
        this.inUse++;
        this.cursor = (slot + 1) % n;
        const rtp = this.first + slot * 2;
        return { rtp, rtcp: rtp + 1 };
      }
    }
    return null;
  }

  /** Returns a pair by its RTP port; releasing a port that is not allocated is a no-op. */
  release(rtpPort: number): void {
    const slot = (rtpPort - this.first) / 2;
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.used.length || this.used[slot] === 0) return;
    this.used[slot] = 0;
    this.inUse--;
  }
}
