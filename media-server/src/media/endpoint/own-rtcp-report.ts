/**
 * The RTCP compound a leg sends on its own behalf (RFC 3550 §6.4): an SR
 * when the relay has sent media on the leg, an RR otherwise, with a report
 * block on what it receives and the CNAME. The SR's send time is remembered
 * so the peer's echo of it gives the leg's round-trip time.
 */
import { ntpFromUnixMs, ntpMiddle32 } from '../rtp/ntp-time.ts';
import { buildReceiverReport, buildSdesCname, buildSenderReport, type ReportBlock } from '../rtp/rtcp-packet.ts';
import type { RtpStreamStats } from '../rtp/rtp-stream-stats.ts';
import type { OutboundStream } from './outbound-stream.ts';

export function buildOwnRtcpReport(stats: RtpStreamStats, outbound: OutboundStream, cname: string, nowMs: number): Buffer {
  const reports: ReportBlock[] = [];
  if (stats.packets > 0) {
    reports.push(
      stats.receive.takeReportBlock(nowMs, {
        ssrc: 0,
        fractionLost: 0,
        cumulativeLost: 0,
        extendedHighestSequence: 0,
        jitter: 0,
        lastSenderReport: 0,
        delaySinceLastSenderReport: 0,
      }),
    );
  }
  let report: Buffer;
  if (outbound.packets > 0) {
    const ntpMs = ntpFromUnixMs(Date.now());
    // The RTP time that corresponds to now, extrapolated from the last packet sent.
    const elapsed = Math.round(((nowMs - outbound.lastSentMs) * outbound.clockRate) / 1000);
    report = buildSenderReport({
      ssrc: outbound.ssrc,
      ntpMs,
      rtpTimestamp: (outbound.lastTimestamp + elapsed) >>> 0,
      packetCount: outbound.packets >>> 0,
      octetCount: outbound.bytes >>> 0,
      reports,
    });
    stats.rtt.senderReportSent(ntpMiddle32(ntpMs), nowMs);
  } else {
    report = buildReceiverReport({ ssrc: outbound.ssrc, reports });
  }
  return Buffer.concat([report, buildSdesCname(outbound.ssrc, cname)]);
}
