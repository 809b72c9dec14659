import { describe, expect, it } from 'vitest';
import {
  buildReceiverReport,
  buildSdesCname,
  buildSenderReport,
  parseRtcpCompound,
  type ReportBlock,
} from '../../src/media/rtp/rtcp-packet.ts';
import { ntpFromUnixMs, ntpMiddle32 } from '../../src/media/rtp/ntp-time.ts';
import { RtpReceiveStatistics } from '../../src/media/rtp/rtp-receive-statistics.ts';
import { RtpStreamStats } from '../../src/media/rtp/rtp-stream-stats.ts';

const block = (): ReportBlock => ({
  ssrc: 0,
  fractionLost: 0,
  cumulativeLost: 0,
  extendedHighestSequence: 0,
  jitter: 0,
  lastSenderReport: 0,
  delaySinceLastSenderReport: 0,
});

describe('RTCP packets', () => {
  it('builds and parses an SR + SDES + BYE compound', () => {
    const ntpMs = ntpFromUnixMs(Date.UTC(2026, 10, 21, 12, 0, 0, 250));
    const sr = buildSenderReport({
      ssrc: 0x11111111,
      ntpMs,
      rtpTimestamp: 123456,
      packetCount: 50,
      octetCount: 8000,
      reports: [
        { ssrc: 0x22222222, fractionLost: 64, cumulativeLost: -3, extendedHighestSequence: 0x1_0005, jitter: 40, lastSenderReport: 0xabcd0000, delaySinceLastSenderReport: 65536 },
      ],
    });
    const sdes = buildSdesCname(0x11111111, 'leg-a@carillon');
    const bye = Buffer.from([0x81, 203, 0, 3, 0x11, 0x11, 0x11, 0x11, 4, 0x64, 0x6f, 0x6e, 0x65, 0, 0, 0]);
    const parsed = parseRtcpCompound(Buffer.concat([sr, sdes, bye]))!;
    expect(parsed).toHaveLength(3);
    const [p0, p1, p2] = [parsed[0]!, parsed[1], parsed[2]];
    expect(p0).toMatchObject({ type: 'sr', ssrc: 0x11111111, rtpTimestamp: 123456, packetCount: 50, octetCount: 8000 });
    expect(p0.type === 'sr' && Math.abs(p0.ntpMs - ntpMs)).toBeLessThan(0.001);
    expect(p0.type === 'sr' && p0.reports[0]).toEqual({
      ssrc: 0x22222222,
      fractionLost: 64,
      cumulativeLost: -3,
      extendedHighestSequence: 0x1_0005,
      jitter: 40,
      lastSenderReport: 0xabcd0000,
      delaySinceLastSenderReport: 65536,
    });
    expect(p1).toEqual({ type: 'sdes', chunks: [{ ssrc: 0x11111111, items: [{ type: 1, value: 'leg-a@carillon' }] }] });
    expect(p2).toEqual({ type: 'bye', ssrcs: [0x11111111], reason: 'done' });
  });

  it('builds and parses an RR with several blocks', () => {
    const reports = [1, 2, 3].map((i) => ({ ...block(), ssrc: i, cumulativeLost: i * 10 }));
    const parsed = parseRtcpCompound(buildReceiverReport({ ssrc: 9, reports }))!;
    expect(parsed).toEqual([{ type: 'rr', ssrc: 9, reports }]);
  });

  it('keeps packets it does not decode (feedback, APP) as their place in the buffer', () => {
    const rr = buildReceiverReport({ ssrc: 1 });
    const pli = Buffer.from([0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
    expect(parseRtcpCompound(Buffer.concat([rr, pli]))).toEqual([
      { type: 'rr', ssrc: 1, reports: [] },
      { type: 'other', packetType: 206, offset: 8, length: 12 },
    ]);
  });

  it('rejects malformed compounds without throwing', () => {
    const rr = buildReceiverReport({ ssrc: 1, reports: [block()] });
    expect(parseRtcpCompound(rr.subarray(0, rr.length - 4))).toBeNull(); // length field past the end
    expect(parseRtcpCompound(Buffer.concat([rr, Buffer.from([0x80, 201])]))).toBeNull(); // trailing junk
    const v1 = Buffer.from(rr);
    v1[0] = 0x41;
    expect(parseRtcpCompound(v1)).toBeNull();
    const lying = Buffer.from(buildReceiverReport({ ssrc: 1 }));
    lying[0] = 0x85; // claims 5 report blocks in an 8-byte packet
    expect(parseRtcpCompound(lying)).toBeNull();
    for (let i = 0; i < 500; i++) {
      const junk = Buffer.from(Array.from({ length: (i % 60) + 1 }, (_, j) => (i * 13 + j * 7) & 0xff));
      junk[0] = 0x80 | (junk[0]! & 0x3f);
      expect(() => parseRtcpCompound(junk)).not.toThrow();
    }
  });
});

describe('RTP receive statistics (RFC 3550 A.1, A.3, A.8)', () => {
  it('counts loss across a sequence wraparound and reports the extended highest sequence', () => {
    const s = new RtpReceiveStatistics(8000);
    let t = 0;
    for (let i = 0; i < 100; i++) {
      const seq = (65500 + i) & 0xffff;
      if (i === 40 || i === 41 || i === 70) continue; // three lost
      s.update(7, seq, i * 160, t + i * 20, 160, true);
    }
    t = 0;
    expect(s.packets).toBe(97);
    expect(s.bytes).toBe(97 * 160);
    expect(s.extendedHighestSequence).toBe(65536 + ((65500 + 99) & 0xffff));
    expect(s.cumulativeLost).toBe(3);
    const r = s.takeReportBlock(t, block());
    expect(r.ssrc).toBe(7);
    expect(r.fractionLost).toBe(Math.floor((3 * 256) / 100));
    expect(r.cumulativeLost).toBe(3);
    // The next interval had no loss.
    s.update(7, (65500 + 100) & 0xffff, 100 * 160, 2000, 160, true);
    expect(s.takeReportBlock(2000, block()).fractionLost).toBe(0);
  });

  it('ignores duplicates and late packets for the highest sequence, and a lone jump', () => {
    const s = new RtpReceiveStatistics(8000);
    s.update(1, 100, 0, 0, 160, true);
    s.update(1, 101, 160, 20, 160, true);
    s.update(1, 100, 0, 25, 160, true); // duplicate
    expect(s.extendedHighestSequence).toBe(101);
    expect(s.update(1, 30000, 0, 40, 160, true)).toBe(false); // wild jump: not accepted alone
    expect(s.extendedHighestSequence).toBe(101);
    expect(s.update(1, 30001, 0, 60, 160, true)).toBe(true); // confirmed: the source restarted
    expect(s.extendedHighestSequence).toBe(30001);
  });

  it('computes jitter as RFC 3550 A.8 does', () => {
    const s = new RtpReceiveStatistics(8000);
    // Packets every 20 ms, arriving alternately 0 and 4 ms late: |D| = 32 units each time.
    let expected = 0;
    for (let i = 0; i < 200; i++) {
      s.update(5, i, i * 160, i * 20 + (i % 2 === 0 ? 0 : 4), 160, true);
      if (i > 0) expected += (32 - expected) / 16;
    }
    expect(s.jitter).toBeCloseTo(expected, 6);
    expect(s.jitterMs).toBeCloseTo((expected / 8000) * 1000, 6);
    expect(s.jitterMs).toBeGreaterThan(3.9);
    // Perfectly paced packets decay it.
    const steady = new RtpReceiveStatistics(8000);
    for (let i = 0; i < 100; i++) steady.update(5, i, i * 160, i * 20, 160, true);
    expect(steady.jitter).toBe(0);
  });

  it('echoes the last SR as LSR with the delay since (DLSR)', () => {
    const s = new RtpReceiveStatistics(8000);
    s.update(3, 1, 0, 0, 160, true);
    const ntp = ntpFromUnixMs(1_700_000_000_000);
    s.senderReportReceived(ntp, 1000);
    const r = s.takeReportBlock(1500, block());
    expect(r.lastSenderReport).toBe(ntpMiddle32(ntp));
    expect(r.delaySinceLastSenderReport).toBe(Math.round(0.5 * 65536));
  });
});

describe('RtpStreamStats', () => {
  it('reads as packets, bytes, lost, jitterMs and the RTT from LSR/DLSR', () => {
    const stats = new RtpStreamStats(8000);
    expect(stats.snapshot()).toEqual({ packets: 0, bytes: 0, lost: 0, jitterMs: 0, rttMs: null });
    for (let i = 0; i < 10; i++) if (i !== 5) stats.receive.update(1, i, i * 160, i * 20, 160, true);
    const lsr = ntpMiddle32(ntpFromUnixMs(1_700_000_000_000));
    stats.rtt.senderReportSent(lsr, 10_000);
    // The peer held our SR 200 ms; its report came back 260 ms after we sent it: 60 ms of network.
    expect(stats.rtt.reportReceived(lsr, 0.2 * 65536, 10_260)).toBeCloseTo(60, 3);
    expect(stats.rtt.reportReceived(lsr + 1, 0, 10_300)).toBeNaN(); // an SR we never sent
    expect(stats.snapshot()).toEqual({ packets: 9, bytes: 9 * 160, lost: 1, jitterMs: 0, rttMs: expect.closeTo(60, 3) });
  });
});
