/**
 * Per-source receive statistics of RFC 3550 Appendix A: extended highest
 * sequence number and loss (A.1, A.3) and interarrival jitter (A.8). Updated
 * for every packet, so it keeps only numbers and never allocates.
 */
import type { ReportBlock } from './rtcp-packet.ts';
import { ntpMiddle32 } from './ntp-time.ts';

const SEQ_MOD = 0x10000;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

export class RtpReceiveStatistics {
  readonly clockRate: number;
  ssrc = 0;
  packets = 0;
  /** Payload octets, as counted by an SR's octet count. */
  bytes = 0;
  private started = false;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private badSeq = SEQ_MOD + 1;
  /** Packets counted for loss: a restarted sequence resets it, unlike `packets`. */
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private transit = 0;
  private haveTransit = false;
  /** In timestamp units, as a float: RFC 3550 A.8 keeps it scaled by 16 only to avoid floats. */
  private jitterUnits = 0;
  private lastSrMiddle = 0;
  private lastSrArrivalMs = 0;

  constructor(clockRate: number) {
    this.clockRate = clockRate;
  }

  /**
   * Counts one packet. `arrivalMs` is any monotonic clock in ms; `timing`
   * false leaves jitter alone, for packets whose timestamp is not a sampling
   * instant (RFC 4733 events keep the event's start time).
   * Returns false for a packet RFC 3550 A.1 treats as not (yet) valid: a jump
   * far outside the window, until a second packet confirms the new sequence.
   */
  update(ssrc: number, seq: number, rtpTimestamp: number, arrivalMs: number, payloadBytes: number, timing: boolean): boolean {
    if (!this.started || ssrc !== this.ssrc) {
      this.restart(ssrc, seq);
    } else {
      const delta = (seq - this.maxSeq + SEQ_MOD) % SEQ_MOD;
      if (delta < MAX_DROPOUT) {
        if (seq < this.maxSeq) this.cycles += SEQ_MOD;
        this.maxSeq = seq;
      } else if (delta <= SEQ_MOD - MAX_MISORDER) {
        if (seq !== this.badSeq) {
          this.badSeq = (seq + 1) % SEQ_MOD;
          return false;
        }
        // Two sequential packets after a big jump: the source restarted.
        this.restartSequence(seq);
      }
      // Otherwise a duplicate or a late packet: counted, no change to max.
    }
    this.packets++;
    this.received++;
    this.bytes += payloadBytes;
    if (timing) this.updateJitter(rtpTimestamp, arrivalMs);
    return true;
  }

  private restart(ssrc: number, seq: number): void {
    this.started = true;
    this.ssrc = ssrc;
    this.haveTransit = false;
    this.jitterUnits = 0;
    this.restartSequence(seq);
  }

  private restartSequence(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  private updateJitter(rtpTimestamp: number, arrivalMs: number): void {
    const arrival = (arrivalMs * this.clockRate) / 1000;
    // Both sides wrap differently; the difference modulo 2^32 stays meaningful.
    const transit = (arrival - rtpTimestamp) % 0x1_0000_0000;
    if (this.haveTransit) {
      let d = transit - this.transit;
      if (d > 0x8000_0000) d -= 0x1_0000_0000;
      else if (d < -0x8000_0000) d += 0x1_0000_0000;
      if (d < 0) d = -d;
      this.jitterUnits += (d - this.jitterUnits) / 16;
    }
    this.transit = transit;
    this.haveTransit = true;
  }

  get extendedHighestSequence(): number {
    return this.cycles + this.maxSeq;
  }

  get expected(): number {
    return this.started ? this.extendedHighestSequence - this.baseSeq + 1 : 0;
  }

  /** Cumulative number of packets lost; negative when duplicates outnumber losses. */
  get cumulativeLost(): number {
    return this.expected - this.received;
  }

  /** Jitter in RTP timestamp units. */
  get jitter(): number {
    return this.jitterUnits;
  }

  get jitterMs(): number {
    return (this.jitterUnits * 1000) / this.clockRate;
  }

  /** Remembers an SR from this source, to echo it as LSR/DLSR (RFC 3550 §6.4.1). */
  senderReportReceived(ntpMs: number, arrivalMs: number): void {
    this.lastSrMiddle = ntpMiddle32(ntpMs);
    this.lastSrArrivalMs = arrivalMs;
  }

  /**
   * Fills a report block for this source and starts a new reporting interval
   * (the fraction lost is per interval). `nowMs` is on the clock given to update().
   */
  takeReportBlock(nowMs: number, into: ReportBlock): ReportBlock {
    const expected = this.expected;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    into.ssrc = this.ssrc;
    into.fractionLost = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    if (into.fractionLost > 255) into.fractionLost = 255;
    into.cumulativeLost = this.cumulativeLost;
    into.extendedHighestSequence = this.extendedHighestSequence >>> 0;
    into.jitter = Math.floor(this.jitterUnits) >>> 0;
    into.lastSenderReport = this.lastSrMiddle;
    into.delaySinceLastSenderReport =
      this.lastSrMiddle === 0 ? 0 : Math.max(0, Math.round(((nowMs - this.lastSrArrivalMs) * 65536) / 1000)) >>> 0;
    return into;
  }
}
