/**
 * Round-trip time from report blocks (RFC 3550 §6.4.1): a report echoing the
 * LSR of an SR we sent, with the DLSR the peer held it for, gives
 * RTT = arrival − time we sent that SR − DLSR. We remember the send time of
 * the last few SRs by their LSR key instead of relying on our own NTP clock, so
 * the same code works for SRs the relay generates and for SRs it forwards from
 * the other leg (whose NTP clock is the far end's).
 */
const SLOTS = 8;

export class RttEstimator {
  private readonly lsr = new Uint32Array(SLOTS);
  private readonly sentAtMs = new Float64Array(SLOTS);
  private next = 0;
  /** Latest estimate in ms; NaN until the first one. */
  rttMs = Number.NaN;

  /** `middle32` is the SR's NTP middle 32 bits, `atMs` the local monotonic time it left. */
  senderReportSent(middle32: number, atMs: number): void {
    this.lsr[this.next] = middle32;
    this.sentAtMs[this.next] = atMs;
    this.next = (this.next + 1) % SLOTS;
  }

  /** Returns the new estimate, or NaN when the block echoes no SR we know. */
  reportReceived(lastSenderReport: number, delaySinceLastSenderReport: number, arrivalMs: number): number {
    if (lastSenderReport === 0) return Number.NaN;
    for (let i = 0; i < SLOTS; i++) {
      if (this.lsr[i] !== lastSenderReport || this.sentAtMs[i] === 0) continue;
      const rtt = arrivalMs - this.sentAtMs[i]! - (delaySinceLastSenderReport * 1000) / 65536;
      // A negative value means clock trouble or a forged echo; the true RTT is near zero then.
      this.rttMs = Math.max(0, rtt);
      return this.rttMs;
    }
    return Number.NaN;
  }
}
