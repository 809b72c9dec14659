import dgram from 'node:dgram';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { PCMA, PCMU } from '../../src/media/codecs/g711-codec.ts';
import { OpusCodec } from '../../src/media/codecs/opus-codec.ts';
import { pcmaEncodeSample, pcmuDecodeSample } from '../../src/media/codecs/g711.ts';
import { buildReceiverReport, buildSdesCname, buildSenderReport, parseRtcpCompound } from '../../src/media/rtp/rtcp-packet.ts';
import { parseRtpHeader, writeRtpHeader } from '../../src/media/rtp/rtp-header.ts';
import { MediaClock } from '../../src/media/engine/media-clock.ts';
import { OutboundStream, PLAYER_SOURCE } from '../../src/media/endpoint/outbound-stream.ts';
import { createPayloadStep } from '../../src/media/bridge/payload-step.ts';
import { rewriteForwardedRtcp } from '../../src/media/endpoint/rtcp-forwarding.ts';
import { RtpPortAllocator } from '../../src/media/engine/rtp-port-allocator.ts';
import { readRtpPortRange } from '../../src/media/engine/rtp-port-settings.ts';

describe('RTP port settings', () => {
  it('defaults to 20000-20999 and reads RTP_PORT_MIN / RTP_PORT_MAX', () => {
    expect(readRtpPortRange({})).toEqual({ min: 20000, max: 20999 });
    expect(readRtpPortRange({ RTP_PORT_MIN: '30000', RTP_PORT_MAX: ' 30100 ' })).toEqual({ min: 30000, max: 30100 });
  });

  it('names the variable in its error', () => {
    expect(() => readRtpPortRange({ RTP_PORT_MIN: 'abc' })).toThrow(/RTP_PORT_MIN: must be a whole number/);
    expect(() => readRtpPortRange({ RTP_PORT_MAX: '70000' })).toThrow(/RTP_PORT_MAX: must be between 1024 and 65535/);
    expect(() => readRtpPortRange({ RTP_PORT_MIN: '80' })).toThrow(/RTP_PORT_MIN/);
    expect(() => readRtpPortRange({ RTP_PORT_MIN: '30000', RTP_PORT_MAX: '29000' })).toThrow(/RTP_PORT_MAX: must not be below RTP_PORT_MIN/);
    expect(() => readRtpPortRange({ RTP_PORT_MIN: '30001', RTP_PORT_MAX: '30002' })).toThrow(/RTP_PORT_MAX: .*no even\/odd port pair/);
  });
});

describe('RtpPortAllocator', () => {
  it('hands out even RTP ports with the odd RTCP port above, round the range', () => {
    const ports = new RtpPortAllocator({ min: 30001, max: 30010 });
    expect(ports.capacity).toBe(4); // 30002..30009
    const got = [ports.allocate(), ports.allocate(), ports.allocate(), ports.allocate()];
    expect(got).toEqual([
      { rtp: 30002, rtcp: 30003 },
      { rtp: 30004, rtcp: 30005 },
      { rtp: 30006, rtcp: 30007 },
      { rtp: 30008, rtcp: 30009 },
    ]);
    expect(ports.allocate()).toBeNull();
    ports.release(30004);
    ports.release(30004); // twice: no effect
    ports.release(30005); // not an RTP port: no effect
    expect(ports.allocated).toBe(3);
    expect(ports.allocate()).toEqual({ rtp: 30004, rtcp: 30005 });
    ports.release(30002);
    ports.release(30006);
    // After 30004 the cursor moves on to 30006 before coming back round to 30002.
    expect(ports.allocate()).toEqual({ rtp: 30006, rtcp: 30007 });
    expect(ports.allocate()).toEqual({ rtp: 30002, rtcp: 30003 });
  });
});

describe('OutboundStream', () => {
  function packet(seq: number, ts: number, ssrc: number): Buffer {
    const b = Buffer.alloc(12);
    writeRtpHeader(b, { payloadType: 0, sequenceNumber: seq, timestamp: ts, ssrc });
    return b;
  }

  it('keeps one SSRC and continuous numbering across source changes', () => {
    const out = new OutboundStream(8000, 'rewrite');
    const seen: { seq: number; ts: number; ssrc: number; marker: boolean }[] = [];
    const send = (source: number, seq: number, ts: number, now: number) => {
      const b = packet(seq, ts, source < 0 ? 0 : source);
      out.rewrite(b, source, source < 0 ? 0 : source, seq, ts, 1, now);
      const h = parseRtpHeader(b)!;
      seen.push({ seq: h.sequenceNumber, ts: h.timestamp, ssrc: h.ssrc, marker: h.marker });
    };
    for (let i = 0; i < 3; i++) send(111, 500 + i, 9000 + i * 160, i * 20);
    for (let i = 0; i < 3; i++) send(PLAYER_SOURCE, i, i * 160, 60 + i * 20); // a prompt, 0 ms after
    for (let i = 0; i < 2; i++) send(222, 7 + i, 123 + i * 160, 200 + i * 20); // another source, 80 ms later
    expect(new Set(seen.map((s) => s.ssrc))).toEqual(new Set([out.ssrc]));
    for (let i = 1; i < seen.length; i++) expect((seen[i]!.seq - seen[i - 1]!.seq) & 0xffff).toBe(1);
    expect(seen.map((s) => s.marker)).toEqual([true, false, false, true, false, false, true, false]);
    expect((seen[3]!.ts - seen[2]!.ts) >>> 0).toBe(160); // 20 ms after the last relayed packet
    expect((seen[6]!.ts - seen[5]!.ts) >>> 0).toBe(Math.round(((200 - 100) * 8000) / 1000));
    expect((seen[7]!.ts - seen[6]!.ts) >>> 0).toBe(160);
  });

  it("'keep' passes the first source through untouched", () => {
    const out = new OutboundStream(8000, 'keep');
    const b = packet(65535, 4294967200, 0xabcdef);
    b[1] = b[1]! | 0x80;
    out.rewrite(b, 0xabcdef, 0xabcdef, 65535, 4294967200, 1, 0);
    expect(parseRtpHeader(b)).toMatchObject({ sequenceNumber: 65535, timestamp: 4294967200, ssrc: 0xabcdef, marker: true });
    const c = packet(0, 64, 0xabcdef);
    out.rewrite(c, 0xabcdef, 0xabcdef, 0, 64, 1, 20);
    expect(parseRtpHeader(c)).toMatchObject({ sequenceNumber: 0, timestamp: 64, ssrc: 0xabcdef, marker: false });
    expect(out.mapTimestamp(1000)).toBe(1000);
  });

  it('scales timestamps for a codec with another clock rate', () => {
    const out = new OutboundStream(48000, 'rewrite');
    const a = packet(1, 4294967136, 5);
    out.rewrite(a, 5, 5, 1, 4294967136, 6, 0);
    const b = packet(2, 0, 5); // the source's timestamp wrapped
    out.rewrite(b, 5, 5, 2, 0, 6, 20);
    expect((parseRtpHeader(b)!.timestamp - parseRtpHeader(a)!.timestamp) >>> 0).toBe(960);
  });
});

describe('payload steps', () => {
  it('none for equal codecs, in place between the G.711 laws, a transcoder otherwise', () => {
    expect(createPayloadStep(PCMU, PCMU)).toBeNull();
    const step = createPayloadStep(PCMU, PCMA)!;
    expect(step.inPlace).toBe(true);
    const buf = Buffer.from([1, 2, 0xff, 0x80, 9]);
    step.apply(buf, 2, 2, buf, 2);
    expect([...buf]).toEqual([1, 2, pcmaEncodeSample(pcmuDecodeSample(0xff)), pcmaEncodeSample(pcmuDecodeSample(0x80)), 9]);
    const toOpus = createPayloadStep(PCMU, new OpusCodec())!;
    expect(toOpus.inPlace).toBe(false);
    expect(toOpus.timestampRatio).toBe(6);
    const out = Buffer.alloc(400);
    expect(toOpus.apply(Buffer.alloc(160, 0xff), 0, 160, out, 12)).toBeGreaterThan(0);
  });
});

describe('RTCP forwarding rewrite', () => {
  it('re-points reporter, report blocks and SR time at the destination stream', () => {
    const sr = buildSenderReport({
      ssrc: 0xaaaa,
      ntpMs: 3.9e12,
      rtpTimestamp: 1000,
      packetCount: 5,
      octetCount: 800,
      reports: [
        { ssrc: 0x1111, fractionLost: 1, cumulativeLost: 2, extendedHighestSequence: 3, jitter: 4, lastSenderReport: 5, delaySinceLastSenderReport: 6 },
        { ssrc: 0x9999, fractionLost: 0, cumulativeLost: 0, extendedHighestSequence: 0, jitter: 0, lastSenderReport: 0, delaySinceLastSenderReport: 0 },
      ],
    });
    const compound = Buffer.concat([sr, buildSdesCname(0xaaaa, 'a@x'), buildReceiverReport({ ssrc: 0xaaaa }), Buffer.from([0x81, 203, 0, 1, 0, 0, 0xaa, 0xaa])]);
    const { ok, srNtpMs } = rewriteForwardedRtcp(compound, compound.length, {
      senderSsrc: 0x5555,
      reportedSsrc: 0x1111,
      reportedSsrcReplacement: 0x2222,
      mapTimestamp: (ts) => ts + 7,
    });
    expect(ok).toBe(true);
    expect(srNtpMs).toBeCloseTo(3.9e12, 3);
    const parsed = parseRtcpCompound(compound)!;
    expect(parsed[0]).toMatchObject({ type: 'sr', ssrc: 0x5555, rtpTimestamp: 1007, packetCount: 5 });
    expect(parsed[0]!.type === 'sr' && parsed[0]!.reports.map((r) => r.ssrc)).toEqual([0x2222, 0x9999]);
    expect(parsed[0]!.type === 'sr' && parsed[0]!.reports[0]!.lastSenderReport).toBe(5);
    expect(parsed[1]).toEqual({ type: 'sdes', chunks: [{ ssrc: 0x5555, items: [{ type: 1, value: 'a@x' }] }] });
    expect(parsed[2]).toEqual({ type: 'rr', ssrc: 0x5555, reports: [] });
    expect(parsed[3]).toEqual({ type: 'bye', ssrcs: [0x5555] });
    expect(rewriteForwardedRtcp(compound, compound.length - 2, { senderSsrc: 1, reportedSsrc: 2, reportedSsrcReplacement: 3, mapTimestamp: null }).ok).toBe(false);
  });
});

describe('MediaClock', () => {
  it('ticks every 20 ms, catching up after a stall with every frame it owed', async () => {
    const clock = new MediaClock();
    const ticks: { frame: number; at: number }[] = [];
    const listener = (frame: number) => ticks.push({ frame, at: performance.now() });
    clock.add(listener);
    // Block the event loop for 70 ms: the late frames are delivered when it frees up.
    await new Promise((r) => setTimeout(r, 30));
    const stalled = performance.now();
    const until = stalled + 70;
    while (performance.now() < until);
    // Caught up with the time: a frame after the stall comes within 25 ms of when it was due (a clock that
    // paid one owed frame per timer would stay ~70 ms behind for good). Waited for, not asserted on the first
    // ticks: a busy machine may leave this process unscheduled for tens of ms at any moment (CI: 76 ms).
    await expect.poll(() => ticks.some((t) => t.at >= until && t.at - t.frame < 25), { timeout: 5_000, interval: 10 }).toBe(true);
    clock.delete(listener);
    // The frames due during the stall came at once as it ended, none skipped: 20 ms apart from the last
    // frame before the stall through the burst. (A stall of more than MAX_CATCH_UP frames skips by design.)
    const first = ticks.find((t) => t.at >= until)!;
    // At once: within 15 ms (less than a frame; room for a preemption in the middle of the burst).
    const burst = ticks.filter((t) => t.at >= first.at && t.at - first.at < 15);
    expect(burst.length).toBeGreaterThanOrEqual(3);
    const from = ticks.indexOf(first) - 1;
    const around = ticks.slice(Math.max(0, from), ticks.indexOf(first) + burst.length);
    for (let i = 1; i < around.length; i++) expect(around[i]!.frame - around[i - 1]!.frame).toBeCloseTo(20, 6);
    const after = ticks.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(ticks.length).toBe(after);
  });

  it('after a stall, reads the packets that arrived meanwhile before it catches up', async () => {
    // Another thread sends a datagram every 5 ms while this one is blocked: they wait in the socket. It
    // counts what the kernel took (the send callback) in shared memory, so the test knows some did arrive.
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    let received = 0;
    socket.on('message', () => received++);
    const sent = new Int32Array(new SharedArrayBuffer(4));
    const sender = new Worker(
      `const { workerData } = require('node:worker_threads');
       const s = require('node:dgram').createSocket('udp4');
       const t = setInterval(() => s.send(Buffer.alloc(20), ${socket.address().port}, '127.0.0.1', () => Atomics.add(workerData, 0, 1)), 5);
       setTimeout(() => { clearInterval(t); s.close(); }, 10000);`,
      { eval: true, workerData: sent },
    );
    const clock = new MediaClock();
    const seen: { at: number; received: number }[] = [];
    const listener = () => seen.push({ at: performance.now(), received });
    try {
      clock.add(listener);
      await new Promise((r) => setTimeout(r, 200));
      let before = 0;
      let stallEnd = 0;
      // The thread is held up while it works (here in the check phase), as a worker preempted on a busy
      // machine: the next turn of the loop starts with the timers, the clock's late one among them. On a
      // loaded machine the sender may not run during a stall: the stall is made again until it has.
      for (let attempt = 0; attempt < 10; attempt++) {
        const sentBefore = Atomics.load(sent, 0);
        await new Promise<void>((resolve) =>
          setImmediate(() => {
            before = received;
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
            stallEnd = performance.now();
            resolve();
          }),
        );
        if (Atomics.load(sent, 0) - sentBefore >= 2) break;
      }
      // Wait for the clock's first tick after the stall, however late a busy machine runs it.
      await expect.poll(() => seen.some((s) => s.at >= stallEnd), { timeout: 5_000, interval: 5 }).toBe(true);
      const first = seen.find((s) => s.at >= stallEnd);
      expect(first!.received).toBeGreaterThan(before);
    } finally {
      clock.delete(listener);
      await sender.terminate();
      socket.close();
    }
  });
});
