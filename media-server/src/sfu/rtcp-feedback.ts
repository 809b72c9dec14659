/**
 * The RTCP feedback an SFU acts on (RFC 4585 §6.1 common format): Generic
 * NACK (RTPFB, FMT 1, §6.2.1), Picture Loss Indication (PSFB, FMT 1, §6.3.1)
 * and Full Intra Request (PSFB, FMT 4, RFC 5104 §4.3.1). Read from a
 * decrypted compound (or reduced-size RTCP, RFC 5506), built for sending.
 */
import { walkRtcpCompound } from '../media/rtp/rtcp-packet.ts';
import { readUint32, writeUint32 } from '../media/rtp/rtp-header.ts';

export const RTCP_RTPFB = 205;
export const RTCP_PSFB = 206;
const FMT_NACK = 1;
const FMT_PLI = 1;
const FMT_FIR = 4;

export type RtcpFeedback =
  | { type: 'nack'; senderSsrc: number; mediaSsrc: number; lost: number[] }
  | { type: 'pli'; senderSsrc: number; mediaSsrc: number }
  /** A FIR names its media source in each FCI entry (the header's media SSRC is 0). */
  | { type: 'fir'; senderSsrc: number; mediaSsrc: number; seqNr: number };

/** The feedback messages of a compound; null when the compound is malformed. */
export function readRtcpFeedback(buf: Buffer, length: number): RtcpFeedback[] | null {
  const out: RtcpFeedback[] = [];
  const ok = walkRtcpCompound(buf, length, (packetType, offset, packetLength, fmt) => {
    if (packetType !== RTCP_RTPFB && packetType !== RTCP_PSFB) return true;
    if (packetLength < 12) return false;
    const senderSsrc = readUint32(buf, offset + 4);
    const mediaSsrc = readUint32(buf, offset + 8);
    if (packetType === RTCP_RTPFB && fmt === FMT_NACK) {
      const lost: number[] = [];
      // Each FCI: PID, the first lost packet, and BLP, a bitmask of the 16 following it (RFC 4585 §6.2.1).
      for (let at = offset + 12; at + 4 <= offset + packetLength; at += 4) {
        const pid = (buf[at]! << 8) | buf[at + 1]!;
        const blp = (buf[at + 2]! << 8) | buf[at + 3]!;
        lost.push(pid);
        for (let bit = 0; bit < 16; bit++) if (blp & (1 << bit)) lost.push((pid + bit + 1) & 0xffff);
      }
      out.push({ type: 'nack', senderSsrc, mediaSsrc, lost });
    } else if (packetType === RTCP_PSFB && fmt === FMT_PLI) {
      out.push({ type: 'pli', senderSsrc, mediaSsrc });
    } else if (packetType === RTCP_PSFB && fmt === FMT_FIR) {
      for (let at = offset + 12; at + 8 <= offset + packetLength; at += 8) {
        out.push({ type: 'fir', senderSsrc, mediaSsrc: readUint32(buf, at), seqNr: buf[at + 4]! });
      }
    }
    return true;
  });
  return ok ? out : null;
}

function feedbackHeader(buf: Buffer, fmt: number, packetType: number, words: number, senderSsrc: number, mediaSsrc: number): void {
  buf[0] = 0x80 | fmt;
  buf[1] = packetType;
  buf.writeUInt16BE(words - 1, 2);
  writeUint32(buf, 4, senderSsrc);
  writeUint32(buf, 8, mediaSsrc);
}

export function buildPli(senderSsrc: number, mediaSsrc: number): Buffer {
  const buf = Buffer.alloc(12);
  feedbackHeader(buf, FMT_PLI, RTCP_PSFB, 3, senderSsrc, mediaSsrc);
  return buf;
}

/** RFC 5104 §4.3.1: the media source goes in the FCI with a sequence number that changes per new request. */
export function buildFir(senderSsrc: number, mediaSsrc: number, seqNr: number): Buffer {
  const buf = Buffer.alloc(20);
  feedbackHeader(buf, FMT_FIR, RTCP_PSFB, 5, senderSsrc, 0);
  writeUint32(buf, 12, mediaSsrc);
  buf[16] = seqNr & 0xff;
  return buf;
}

/** A Generic NACK for `lost` sequence numbers, packed into PID/BLP pairs. */
export function buildNack(senderSsrc: number, mediaSsrc: number, lost: readonly number[]): Buffer {
  const sorted = [...new Set(lost.map((s) => s & 0xffff))].sort((a, b) => a - b);
  const fci: [number, number][] = [];
  for (const seq of sorted) {
    const last = fci[fci.length - 1];
    const distance = last ? (seq - last[0]) & 0xffff : 0;
    if (last && distance >= 1 && distance <= 16) last[1] |= 1 << (distance - 1);
    else fci.push([seq, 0]);
  }
  const buf = Buffer.alloc(12 + fci.length * 4);
  feedbackHeader(buf, FMT_NACK, RTCP_RTPFB, 3 + fci.length, senderSsrc, mediaSsrc);
  fci.forEach(([pid, blp], i) => {
    buf.writeUInt16BE(pid, 12 + i * 4);
    buf.writeUInt16BE(blp, 14 + i * 4);
  });
  return buf;
}
