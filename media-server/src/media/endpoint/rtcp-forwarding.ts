/**
 * Rewrites, in place, an RTCP compound that one leg sent so that it makes
 * sense on the other: the reporter's SSRC becomes the SSRC the relay uses
 * towards the destination, an SR's RTP timestamp moves to that stream's
 * timeline, and report blocks (and feedback targets) about the stream the
 * source leg receives from us are re-pointed at the stream the destination
 * sends us. Loss, jitter, LSR and DLSR pass through, so both ends still see
 * their end-to-end figures.
 */
import { RTCP_BYE, RTCP_RR, RTCP_SDES, RTCP_SR, walkRtcpCompound } from '../rtp/rtcp-packet.ts';
import { readNtpTimestamp } from '../rtp/ntp-time.ts';
import { readUint32, writeUint32 } from '../rtp/rtp-header.ts';

const RTCP_RTPFB = 205;
const RTCP_PSFB = 206;

export interface RtcpSsrcMapping {
  /** SSRC of the stream the relay sends to the destination (replaces the reporter's). */
  senderSsrc: number;
  /** SSRC the source leg's report blocks are about: the relay's stream towards the source. */
  reportedSsrc: number;
  /** What those blocks should name instead: the SSRC the destination sends. */
  reportedSsrcReplacement: number;
  /** Maps an SR's RTP timestamp, or null to leave it. */
  mapTimestamp: ((ts: number) => number) | null;
}

/** Returns the NTP time (ms since 1900) of the SR in the compound, or NaN; false result when malformed. */
export function rewriteForwardedRtcp(buf: Uint8Array, length: number, map: RtcpSsrcMapping): { ok: boolean; srNtpMs: number } {
  let srNtpMs = Number.NaN;
  const ok = walkRtcpCompound(buf, length, (type, offset, packetLength, count) => {
    const end = offset + packetLength;
    switch (type) {
      case RTCP_SR:
        if (offset + 28 + count * 24 > end) return false;
        writeUint32(buf, offset + 4, map.senderSsrc);
        srNtpMs = readNtpTimestamp(buf, offset + 8);
        if (map.mapTimestamp) writeUint32(buf, offset + 16, map.mapTimestamp(readUint32(buf, offset + 16)));
        rewriteBlocks(buf, offset + 28, count, map);
        return true;
      case RTCP_RR:
        if (offset + 8 + count * 24 > end) return false;
        writeUint32(buf, offset + 4, map.senderSsrc);
        rewriteBlocks(buf, offset + 8, count, map);
        return true;
      case RTCP_SDES:
        return rewriteSdes(buf, offset + 4, end, count, map.senderSsrc);
      case RTCP_BYE:
        if (offset + 4 + count * 4 > end) return false;
        for (let i = 0; i < count; i++) writeUint32(buf, offset + 4 + i * 4, map.senderSsrc);
        return true;
      case RTCP_RTPFB:
      case RTCP_PSFB:
        if (offset + 12 > end) return false;
        writeUint32(buf, offset + 4, map.senderSsrc);
        if (readUint32(buf, offset + 8) === map.reportedSsrc) writeUint32(buf, offset + 8, map.reportedSsrcReplacement);
        return true;
      default:
        // APP and XR carry their own semantics; passed through as they are.
        return true;
    }
  });
  return { ok, srNtpMs };
}

function rewriteBlocks(buf: Uint8Array, at: number, count: number, map: RtcpSsrcMapping): void {
  for (let i = 0; i < count; i++, at += 24) {
    if (readUint32(buf, at) === map.reportedSsrc) writeUint32(buf, at, map.reportedSsrcReplacement);
  }
}

function rewriteSdes(buf: Uint8Array, at: number, end: number, count: number, ssrc: number): boolean {
  for (let c = 0; c < count; c++) {
    if (at + 4 > end) return false;
    writeUint32(buf, at, ssrc);
    at += 4;
    while (at < end && buf[at] !== 0) at += 2 + buf[at + 1]!;
    if (at >= end) return false;
    at = (at + 4) & ~3;
  }
  return true;
}
