/**
 * What a leg reports about one received RTP stream: the RFC 3550 receive
 * statistics plus the round trip measured through RTCP.
 */
import { RtpReceiveStatistics } from './rtp-receive-statistics.ts';
import { RttEstimator } from './rtt-estimator.ts';

export interface RtpStreamStatsSnapshot {
  packets: number;
  bytes: number;
  lost: number;
  jitterMs: number;
  /** Null until an RTCP report has echoed one of the SRs sent on this leg. */
  rttMs: number | null;
}

export class RtpStreamStats {
  readonly receive: RtpReceiveStatistics;
  readonly rtt = new RttEstimator();

  constructor(clockRate: number) {
    this.receive = new RtpReceiveStatistics(clockRate);
  }

  get packets(): number {
    return this.receive.packets;
  }
  get bytes(): number {
    return this.receive.bytes;
  }
  /** Never below zero: duplicates do not make up for losses in what a person reads. */
  get lost(): number {
    return Math.max(0, this.receive.cumulativeLost);
  }
  get jitterMs(): number {
    return this.receive.jitterMs;
  }
  get rttMs(): number | null {
    return Number.isNaN(this.rtt.rttMs) ? null : this.rtt.rttMs;
  }

  snapshot(): RtpStreamStatsSnapshot {
    return { packets: this.packets, bytes: this.bytes, lost: this.lost, jitterMs: this.jitterMs, rttMs: this.rttMs };
  }
}
