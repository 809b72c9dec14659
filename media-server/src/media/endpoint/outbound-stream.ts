/**
 * The RTP stream the relay sends on one leg. Whatever feeds it (the other
 * leg, a prompt, generated DTMF) the far end sees one SSRC with continuous
 * sequence numbers and timestamps: when the source changes, the mapping is
 * re-anchored so the sequence goes on by one, the timestamp by the time that
 * passed, and the marker bit flags the discontinuity (RFC 3550 §5.1).
 * In 'keep' mode the first source's own SSRC, sequence and timestamps go
 * through untouched, until a source change forces a re-anchor.
 */
import { randomInt } from 'node:crypto';
import { setRtpSequenceNumber, setRtpSsrc, setRtpTimestamp } from '../rtp/rtp-header.ts';

/** Source keys for generated media; real sources use their SSRC (0 … 2^32−1). */
export const PLAYER_SOURCE = -1;
export const DTMF_SOURCE = -2;
export const MIX_SOURCE = -3;

const TS_REANCHOR_SPAN = 0x4000_0000;

export class OutboundStream {
  readonly clockRate: number;
  ssrc: number;
  /** RFC 3550 sender counters, for SRs we generate. */
  packets = 0;
  /** Payload octets. */
  bytes = 0;
  /** Last timestamp sent and when (monotonic ms), to extrapolate an SR's RTP time. */
  lastTimestamp = 0;
  lastSentMs = 0;
  private readonly keep: boolean;
  private started = false;
  private sourceKey = Number.NaN;
  private inSeqAnchor = 0;
  private outSeqAnchor = 0;
  private inTsAnchor = 0;
  private outTsAnchor = 0;
  private ratio = 1;
  private lastSeq = 0;
  private markerPending = false;

  constructor(clockRate: number, mode: 'rewrite' | 'keep', ssrc?: number) {
    this.clockRate = clockRate;
    this.keep = mode === 'keep';
    this.ssrc = ssrc ?? randomInt(1, 0xffff_ffff);
  }

  /** The next packet starts a new anchor even from the same source (a new prompt, a new DTMF event). */
  reanchor(): void {
    this.sourceKey = Number.NaN;
  }

  /**
   * Rewrites SSRC, sequence number and timestamp of the packet in `buf` in
   * place. `ratio` converts the source's timestamp units to this stream's
   * (6 for 8 kHz → 48 kHz).
   */
  rewrite(buf: Uint8Array, sourceKey: number, sourceSsrc: number, inSeq: number, inTs: number, ratio: number, nowMs: number): void {
    if (sourceKey !== this.sourceKey || ratio !== this.ratio) this.anchor(sourceKey, sourceSsrc, inSeq, inTs, ratio, nowMs);
    let tsDelta = (inTs - this.inTsAnchor) | 0;
    if (tsDelta > TS_REANCHOR_SPAN || tsDelta < -TS_REANCHOR_SPAN) {
      // Keep the signed difference far from overflow on long calls.
      this.outTsAnchor = (this.outTsAnchor + Math.round(tsDelta * this.ratio)) >>> 0;
      this.inTsAnchor = inTs;
      tsDelta = 0;
    }
    const seq = (this.outSeqAnchor + inSeq - this.inSeqAnchor) & 0xffff;
    const ts = (this.outTsAnchor + Math.round(tsDelta * this.ratio)) >>> 0;
    setRtpSequenceNumber(buf, seq);
    setRtpTimestamp(buf, ts);
    setRtpSsrc(buf, this.ssrc);
    if (this.markerPending) {
      buf[1] = buf[1]! | 0x80;
      this.markerPending = false;
    }
    // Sequence order with wraparound: a late packet does not move the stream back.
    if (((seq - this.lastSeq) & 0xffff) < 0x8000) {
      this.lastSeq = seq;
      this.lastTimestamp = ts;
      this.lastSentMs = nowMs;
    }
  }

  /** Maps a source timestamp (e.g. an SR's) into this stream's timeline. */
  mapTimestamp(inTs: number): number {
    return (this.outTsAnchor + Math.round(((inTs - this.inTsAnchor) | 0) * this.ratio)) >>> 0;
  }

  /** Which source the stream currently carries (NaN before the first packet). */
  get currentSource(): number {
    return this.sourceKey;
  }

  counted(payloadBytes: number): void {
    this.packets++;
    this.bytes += payloadBytes;
  }

  private anchor(sourceKey: number, sourceSsrc: number, inSeq: number, inTs: number, ratio: number, nowMs: number): void {
    if (!this.started) {
      this.started = true;
      if (this.keep && sourceKey >= 0) {
        this.ssrc = sourceSsrc;
        this.outSeqAnchor = inSeq;
        this.outTsAnchor = (inTs * ratio) >>> 0;
      } else {
        this.outSeqAnchor = randomInt(0, 0x8000);
        this.outTsAnchor = randomInt(0, 0xffff_ffff);
        this.markerPending = true;
      }
    } else {
      const elapsed = Math.max(1, Math.round(((nowMs - this.lastSentMs) * this.clockRate) / 1000));
      this.outSeqAnchor = (this.lastSeq + 1) & 0xffff;
      this.outTsAnchor = (this.lastTimestamp + elapsed) >>> 0;
      this.markerPending = true;
    }
    this.sourceKey = sourceKey;
    this.inSeqAnchor = inSeq;
    this.inTsAnchor = inTs;
    this.ratio = ratio;
  }
}
