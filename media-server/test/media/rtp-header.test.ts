import { describe, expect, it } from 'vitest';
import {
  RtpHeader,
  looksLikeRtcp,
  parseRtpHeader,
  rtpPayloadOffset,
  setRtpMarker,
  setRtpPayloadType,
  setRtpSequenceNumber,
  setRtpSsrc,
  setRtpTimestamp,
  writeRtpHeader,
} from '../../src/media/rtp/rtp-header.ts';

function packet(bytes: number[]): Buffer {
  return Buffer.from(bytes);
}

describe('RTP header', () => {
  it('reads every field of a header with CSRCs, an extension and padding', () => {
    const buf = packet([
      0b1011_0010, 0x80 | 96, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04,
      // two CSRCs
      0, 0, 0, 1, 0, 0, 0, 2,
      // extension: profile 0xBEDE, one word
      0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00,
      // payload (3 bytes) then 2 bytes of padding
      0x61, 0x62, 0x63, 0x00, 0x02,
    ]);
    const h = parseRtpHeader(buf);
    expect(h).toMatchObject({
      padding: true,
      extension: true,
      csrcCount: 2,
      marker: true,
      payloadType: 96,
      sequenceNumber: 0x1234,
      timestamp: 0xdeadbeef,
      ssrc: 0x01020304,
      extensionProfile: 0xbede,
      extensionOffset: 24,
      extensionLength: 4,
      payloadOffset: 28,
      payloadLength: 3,
      paddingLength: 2,
    });
  });

  it('fills the object it is given instead of allocating', () => {
    const into = new RtpHeader();
    const buf = Buffer.alloc(172);
    writeRtpHeader(buf, { payloadType: 0, sequenceNumber: 65535, timestamp: 4294967295, ssrc: 0xffffffff });
    expect(parseRtpHeader(buf, buf.length, into)).toBe(into);
    expect(into).toMatchObject({ sequenceNumber: 65535, timestamp: 4294967295, ssrc: 0xffffffff, payloadLength: 160, marker: false });
  });

  it('writes fields in place without touching the rest of the packet', () => {
    const buf = Buffer.alloc(20, 0x55);
    writeRtpHeader(buf, { marker: true, payloadType: 8, sequenceNumber: 1, timestamp: 2, ssrc: 3 });
    setRtpSequenceNumber(buf, 0xabcd);
    setRtpTimestamp(buf, 0x80000001);
    setRtpSsrc(buf, 0xcafebabe);
    setRtpPayloadType(buf, 101);
    setRtpMarker(buf, false);
    const h = parseRtpHeader(buf)!;
    expect(h).toMatchObject({ marker: false, payloadType: 101, sequenceNumber: 0xabcd, timestamp: 0x80000001, ssrc: 0xcafebabe });
    expect([...buf.subarray(12)]).toEqual(new Array(8).fill(0x55));
  });

  it('returns null for short, truncated or foreign packets and never throws', () => {
    const valid = Buffer.alloc(12);
    writeRtpHeader(valid, { payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0 });
    expect(parseRtpHeader(valid)).not.toBeNull();
    const cases: Buffer[] = [
      Buffer.alloc(0),
      Buffer.alloc(11, 0x80),
      packet([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), // version 1
      packet([0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), // 15 CSRCs announced, none present
      packet([0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 9]), // extension longer than the packet
      packet([0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00]), // padding count 0
      packet([0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff]), // padding beyond the payload
    ];
    for (const c of cases) {
      expect(parseRtpHeader(c)).toBeNull();
    }
    expect(rtpPayloadOffset(valid, 13)).toBe(-1); // length beyond the buffer
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.from(Array.from({ length: i % 40 }, (_, j) => (i * 31 + j * 17) & 0xff));
      expect(() => parseRtpHeader(junk)).not.toThrow();
    }
  });

  it('tells multiplexed RTCP from RTP by payload type (RFC 5761)', () => {
    expect(looksLikeRtcp(packet([0x80, 200, 0, 6, 0, 0, 0, 0]), 8)).toBe(true);
    expect(looksLikeRtcp(packet([0x80, 0x80 | 0, 0, 6, 0, 0, 0, 0]), 8)).toBe(false);
    expect(looksLikeRtcp(packet([0x80, 96, 0, 6, 0, 0, 0, 0]), 8)).toBe(false);
  });
});
