/**
 * RTP fixed header (RFC 3550 §5.1) read and written in place on the packet's
 * own bytes. The relay path calls these for every packet, so parsing fills a
 * caller-owned object instead of returning a new one, and nothing throws on
 * hostile input: a short or inconsistent packet just parses to null.
 */
export const RTP_VERSION = 2;
export const RTP_FIXED_HEADER_LENGTH = 12;

export class RtpHeader {
  padding = false;
  extension = false;
  csrcCount = 0;
  marker = false;
  payloadType = 0;
  sequenceNumber = 0;
  timestamp = 0;
  ssrc = 0;
  /** Defined by the profile of the header extension; 0 when there is none. */
  extensionProfile = 0;
  /** Offset of the extension's data (after its 4-byte header); 0 when there is none. */
  extensionOffset = 0;
  extensionLength = 0;
  payloadOffset = 0;
  payloadLength = 0;
  paddingLength = 0;
}

/**
 * Parses the header of the first `length` bytes of `buf` into `into` (a new
 * object only when none is given). Null for anything that is not a well-formed
 * version 2 RTP packet.
 */
export function parseRtpHeader(
  buf: Uint8Array,
  length: number = buf.length,
  into: RtpHeader = new RtpHeader(),
): RtpHeader | null {
  const payloadOffset = rtpPayloadOffset(buf, length);
  if (payloadOffset < 0) return null;
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  let paddingLength = 0;
  if (b0 & 0x20) {
    paddingLength = buf[length - 1]!;
    // RFC 3550: the count includes itself, so zero is malformed.
    if (paddingLength === 0 || payloadOffset + paddingLength > length) return null;
  }
  into.padding = (b0 & 0x20) !== 0;
  into.extension = (b0 & 0x10) !== 0;
  into.csrcCount = b0 & 0x0f;
  into.marker = (b1 & 0x80) !== 0;
  into.payloadType = b1 & 0x7f;
  into.sequenceNumber = (buf[2]! << 8) | buf[3]!;
  into.timestamp = readUint32(buf, 4);
  into.ssrc = readUint32(buf, 8);
  if (into.extension) {
    const at = RTP_FIXED_HEADER_LENGTH + into.csrcCount * 4;
    into.extensionProfile = (buf[at]! << 8) | buf[at + 1]!;
    into.extensionOffset = at + 4;
    into.extensionLength = ((buf[at + 2]! << 8) | buf[at + 3]!) * 4;
  } else {
    into.extensionProfile = 0;
    into.extensionOffset = 0;
    into.extensionLength = 0;
  }
  into.payloadOffset = payloadOffset;
  into.paddingLength = paddingLength;
  into.payloadLength = length - payloadOffset - paddingLength;
  return into;
}

/**
 * Offset of the payload, or -1 when the packet is not RTP version 2 or its
 * CSRC list or extension run past `length`. The cheapest validity check, for
 * paths that only need the payload.
 */
export function rtpPayloadOffset(buf: Uint8Array, length: number = buf.length): number {
  if (length > buf.length || length < RTP_FIXED_HEADER_LENGTH) return -1;
  const b0 = buf[0]!;
  if (b0 >> 6 !== RTP_VERSION) return -1;
  let offset = RTP_FIXED_HEADER_LENGTH + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    if (offset + 4 > length) return -1;
    offset += 4 + ((buf[offset + 2]! << 8) | buf[offset + 3]!) * 4;
  }
  return offset > length ? -1 : offset;
}

export interface RtpHeaderFields {
  marker?: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
}

/**
 * Writes a 12-byte header without CSRCs, extension or padding at `offset` and
 * returns its length, so the caller writes the payload right after it.
 */
export function writeRtpHeader(buf: Uint8Array, fields: RtpHeaderFields, offset = 0): number {
  buf[offset] = RTP_VERSION << 6;
  buf[offset + 1] = (fields.marker ? 0x80 : 0) | (fields.payloadType & 0x7f);
  setRtpSequenceNumber(buf, fields.sequenceNumber, offset);
  setRtpTimestamp(buf, fields.timestamp, offset);
  setRtpSsrc(buf, fields.ssrc, offset);
  return RTP_FIXED_HEADER_LENGTH;
}

// Field accessors for packets already known to be valid (see rtpPayloadOffset).
export const rtpMarker = (buf: Uint8Array): boolean => (buf[1]! & 0x80) !== 0;
export const rtpPayloadType = (buf: Uint8Array): number => buf[1]! & 0x7f;
export const rtpSequenceNumber = (buf: Uint8Array): number => (buf[2]! << 8) | buf[3]!;
export const rtpTimestamp = (buf: Uint8Array): number => readUint32(buf, 4);
export const rtpSsrc = (buf: Uint8Array): number => readUint32(buf, 8);

export function setRtpMarker(buf: Uint8Array, marker: boolean, offset = 0): void {
  buf[offset + 1] = marker ? buf[offset + 1]! | 0x80 : buf[offset + 1]! & 0x7f;
}
export function setRtpPayloadType(buf: Uint8Array, payloadType: number, offset = 0): void {
  buf[offset + 1] = (buf[offset + 1]! & 0x80) | (payloadType & 0x7f);
}
export function setRtpSequenceNumber(buf: Uint8Array, seq: number, offset = 0): void {
  buf[offset + 2] = (seq >> 8) & 0xff;
  buf[offset + 3] = seq & 0xff;
}
export function setRtpTimestamp(buf: Uint8Array, timestamp: number, offset = 0): void {
  writeUint32(buf, offset + 4, timestamp);
}
export function setRtpSsrc(buf: Uint8Array, ssrc: number, offset = 0): void {
  writeUint32(buf, offset + 8, ssrc);
}

export function readUint32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

export function writeUint32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = (value >>> 24) & 0xff;
  buf[at + 1] = (value >>> 16) & 0xff;
  buf[at + 2] = (value >>> 8) & 0xff;
  buf[at + 3] = value & 0xff;
}

/** RFC 5761 §4: with RTCP multiplexed on the RTP port, these payload types are RTCP. */
export function looksLikeRtcp(buf: Uint8Array, length: number): boolean {
  if (length < 8) return false;
  const type = buf[1]!;
  return type >= 192 && type <= 223;
}
