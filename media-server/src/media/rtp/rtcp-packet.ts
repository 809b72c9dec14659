/**
 * RTCP compound packets (RFC 3550 §6): parse SR, RR, SDES and BYE, build SR,
 * RR and SDES. RTCP arrives every few seconds per stream, so parsing returns
 * plain objects; only the walk over a compound is shared with the in-place
 * rewriting done by the relay.
 */
import { readUint32, writeUint32 } from './rtp-header.ts';
import { readNtpTimestamp, writeNtpTimestamp } from './ntp-time.ts';

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;

const REPORT_BLOCK_LENGTH = 24;
const SDES_CNAME = 1;

export interface ReportBlock {
  /** The source this block reports on. */
  ssrc: number;
  /** Fraction lost since the previous report, in 1/256. */
  fractionLost: number;
  /** Signed: duplicates can make it negative. */
  cumulativeLost: number;
  extendedHighestSequence: number;
  /** Interarrival jitter in RTP timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP time of the last SR received from `ssrc`, 0 if none. */
  lastSenderReport: number;
  /** In 1/65536 s. */
  delaySinceLastSenderReport: number;
}

export interface SenderReport {
  type: 'sr';
  ssrc: number;
  /** NTP time, ms since 1900 (see ntp-time.ts). */
  ntpMs: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: ReportBlock[];
}

export interface ReceiverReport {
  type: 'rr';
  ssrc: number;
  reports: ReportBlock[];
}

export interface SdesChunk {
  ssrc: number;
  items: { type: number; value: string }[];
}

export interface SourceDescription {
  type: 'sdes';
  chunks: SdesChunk[];
}

export interface Goodbye {
  type: 'bye';
  ssrcs: number[];
  reason?: string;
}

/** APP, feedback (RFC 4585), XR and anything else: kept as its place in the buffer. */
export interface OtherRtcp {
  type: 'other';
  packetType: number;
  offset: number;
  length: number;
}

export type RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Goodbye | OtherRtcp;

/**
 * Calls `visit` for each packet of a compound and returns true when the
 * lengths tile the compound exactly and every packet is version 2. A compound
 * that fails this is dropped whole (RFC 3550 A.2), so `visit` may have seen a
 * prefix of it.
 */
export function walkRtcpCompound(
  buf: Uint8Array,
  length: number,
  visit: (packetType: number, offset: number, packetLength: number, count: number) => boolean,
): boolean {
  if (length > buf.length || length < 4) return false;
  let offset = 0;
  while (offset < length) {
    if (offset + 4 > length) return false;
    const b0 = buf[offset]!;
    if (b0 >> 6 !== 2) return false;
    const packetLength = (((buf[offset + 2]! << 8) | buf[offset + 3]!) + 1) * 4;
    if (offset + packetLength > length) return false;
    // Padding is only allowed on the last packet of a compound.
    if (b0 & 0x20 && offset + packetLength !== length) return false;
    if (!visit(buf[offset + 1]!, offset, packetLength, b0 & 0x1f)) return false;
    offset += packetLength;
  }
  return true;
}

/** Null when the compound is malformed; never throws. */
export function parseRtcpCompound(buf: Uint8Array, length: number = buf.length): RtcpPacket[] | null {
  const packets: RtcpPacket[] = [];
  const ok = walkRtcpCompound(buf, length, (packetType, offset, packetLength, count) => {
    const packet = parseOne(buf, packetType, offset, packetLength, count);
    if (!packet) return false;
    packets.push(packet);
    return true;
  });
  return ok ? packets : null;
}

function parseOne(
  buf: Uint8Array,
  packetType: number,
  offset: number,
  packetLength: number,
  count: number,
): RtcpPacket | null {
  const end = offset + packetLength - paddingOf(buf, offset, packetLength);
  switch (packetType) {
    case RTCP_SR: {
      if (offset + 28 + count * REPORT_BLOCK_LENGTH > end) return null;
      return {
        type: 'sr',
        ssrc: readUint32(buf, offset + 4),
        ntpMs: readNtpTimestamp(buf, offset + 8),
        rtpTimestamp: readUint32(buf, offset + 16),
        packetCount: readUint32(buf, offset + 20),
        octetCount: readUint32(buf, offset + 24),
        reports: readReportBlocks(buf, offset + 28, count),
      };
    }
    case RTCP_RR: {
      if (offset + 8 + count * REPORT_BLOCK_LENGTH > end) return null;
      return { type: 'rr', ssrc: readUint32(buf, offset + 4), reports: readReportBlocks(buf, offset + 8, count) };
    }
    case RTCP_SDES:
      return parseSdes(buf, offset + 4, end, count);
    case RTCP_BYE: {
      if (offset + 4 + count * 4 > end) return null;
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++) ssrcs.push(readUint32(buf, offset + 4 + i * 4));
      const at = offset + 4 + count * 4;
      const bye: Goodbye = { type: 'bye', ssrcs };
      if (at < end) {
        const reasonLength = buf[at]!;
        if (at + 1 + reasonLength > end) return null;
        bye.reason = Buffer.from(buf.buffer, buf.byteOffset + at + 1, reasonLength).toString('utf8');
      }
      return bye;
    }
    default:
      return { type: 'other', packetType, offset, length: packetLength };
  }
}

function paddingOf(buf: Uint8Array, offset: number, packetLength: number): number {
  if (!(buf[offset]! & 0x20)) return 0;
  const padding = buf[offset + packetLength - 1]!;
  return padding <= packetLength - 4 ? padding : packetLength;
}

function readReportBlocks(buf: Uint8Array, at: number, count: number): ReportBlock[] {
  const blocks: ReportBlock[] = [];
  for (let i = 0; i < count; i++, at += REPORT_BLOCK_LENGTH) {
    // 24-bit two's complement.
    const lost = (buf[at + 5]! << 16) | (buf[at + 6]! << 8) | buf[at + 7]!;
    blocks.push({
      ssrc: readUint32(buf, at),
      fractionLost: buf[at + 4]!,
      cumulativeLost: lost & 0x800000 ? lost - 0x1000000 : lost,
      extendedHighestSequence: readUint32(buf, at + 8),
      jitter: readUint32(buf, at + 12),
      lastSenderReport: readUint32(buf, at + 16),
      delaySinceLastSenderReport: readUint32(buf, at + 20),
    });
  }
  return blocks;
}

function parseSdes(buf: Uint8Array, at: number, end: number, count: number): SourceDescription | null {
  const chunks: SdesChunk[] = [];
  for (let c = 0; c < count; c++) {
    if (at + 4 > end) return null;
    const chunk: SdesChunk = { ssrc: readUint32(buf, at), items: [] };
    at += 4;
    for (;;) {
      if (at >= end) return null;
      const type = buf[at]!;
      if (type === 0) {
        // The item list ends with a null octet, then pads to a 32-bit boundary.
        at = (at + 4) & ~3;
        break;
      }
      if (at + 2 > end) return null;
      const itemLength = buf[at + 1]!;
      if (at + 2 + itemLength > end) return null;
      const value = Buffer.from(buf.buffer, buf.byteOffset + at + 2, itemLength).toString('utf8');
      chunk.items.push({ type, value });
      at += 2 + itemLength;
    }
    chunks.push(chunk);
  }
  return { type: 'sdes', chunks };
}

export interface SenderReportFields {
  ssrc: number;
  ntpMs: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports?: readonly ReportBlock[];
}

export function buildSenderReport(sr: SenderReportFields): Buffer {
  const reports = sr.reports ?? [];
  const buf = Buffer.alloc(28 + reports.length * REPORT_BLOCK_LENGTH);
  writeCommonHeader(buf, 0, RTCP_SR, reports.length, buf.length);
  writeUint32(buf, 4, sr.ssrc);
  writeNtpTimestamp(buf, 8, sr.ntpMs);
  writeUint32(buf, 16, sr.rtpTimestamp);
  writeUint32(buf, 20, sr.packetCount);
  writeUint32(buf, 24, sr.octetCount);
  writeReportBlocks(buf, 28, reports);
  return buf;
}

export function buildReceiverReport(rr: { ssrc: number; reports?: readonly ReportBlock[] }): Buffer {
  const reports = rr.reports ?? [];
  const buf = Buffer.alloc(8 + reports.length * REPORT_BLOCK_LENGTH);
  writeCommonHeader(buf, 0, RTCP_RR, reports.length, buf.length);
  writeUint32(buf, 4, rr.ssrc);
  writeReportBlocks(buf, 8, reports);
  return buf;
}

/** RFC 3550 §6.1: every compound carries an SDES with the CNAME. */
export function buildSdesCname(ssrc: number, cname: string): Buffer {
  const text = Buffer.from(cname, 'utf8').subarray(0, 255);
  const unpadded = 4 + 4 + 2 + text.length + 1;
  const buf = Buffer.alloc((unpadded + 3) & ~3);
  writeCommonHeader(buf, 0, RTCP_SDES, 1, buf.length);
  writeUint32(buf, 4, ssrc);
  buf[8] = SDES_CNAME;
  buf[9] = text.length;
  text.copy(buf, 10);
  return buf;
}

function writeCommonHeader(buf: Uint8Array, at: number, packetType: number, count: number, length: number): void {
  buf[at] = 0x80 | (count & 0x1f);
  buf[at + 1] = packetType;
  const words = length / 4 - 1;
  buf[at + 2] = words >> 8;
  buf[at + 3] = words & 0xff;
}

function writeReportBlocks(buf: Uint8Array, at: number, reports: readonly ReportBlock[]): void {
  if (reports.length > 31) throw new RangeError('an RTCP report carries at most 31 report blocks');
  for (const r of reports) {
    writeUint32(buf, at, r.ssrc);
    buf[at + 4] = r.fractionLost & 0xff;
    // Clamped to the signed 24-bit range the field can hold (RFC 3550 §6.4.1).
    const lost = Math.max(-0x800000, Math.min(0x7fffff, r.cumulativeLost)) & 0xffffff;
    buf[at + 5] = lost >> 16;
    buf[at + 6] = (lost >> 8) & 0xff;
    buf[at + 7] = lost & 0xff;
    writeUint32(buf, at + 8, r.extendedHighestSequence);
    writeUint32(buf, at + 12, r.jitter);
    writeUint32(buf, at + 16, r.lastSenderReport);
    writeUint32(buf, at + 20, r.delaySinceLastSenderReport);
    at += REPORT_BLOCK_LENGTH;
  }
}
