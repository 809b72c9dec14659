/**
 * The SFU's objects without a peer: RTCP feedback on the wire, the key frame
 * throttle, the packet cache, RTP parameter validation, a consumer's own
 * sequence space across a layer switch, NACK answers over RTX, RTX restored
 * on receive, and the close() cascade with its live counts.
 */
import dgram from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventually } from '../media/support/test-phone.ts';
import type { IceTuple, WebRtcServerUser } from '../../src/sfu/web-rtc-server.ts';
import { Consumer } from '../../src/sfu/consumer.ts';
import { Producer as ProducerImpl } from '../../src/sfu/producer.ts';
import { KeyFrameRequestThrottle } from '../../src/sfu/key-frame-request-throttle.ts';
import { parseRtcpCompound } from '../../src/media/rtp/rtcp-packet.ts';
import { buildFir, buildNack, buildPli, readRtcpFeedback } from '../../src/sfu/rtcp-feedback.ts';
import { RtpPacketCache } from '../../src/sfu/rtp-packet-cache.ts';
import { validateRtpParameters } from '../../src/sfu/rtp-parameters.ts';
import { InvalidStateError, Sfu, type Producer, type Router, type WebRtcServer } from '../../src/sfu/index.ts';
import { stunUsername } from '../../src/sfu/stun-username.ts';

const VP8 = { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] };
const RTX = { mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 } };
const OPUS = { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 };

function rtp(payloadType: number, seq: number, timestamp: number, ssrc: number, payload: Buffer, marker = false): Buffer {
  const buf = Buffer.alloc(12 + payload.length);
  buf[0] = 0x80;
  buf[1] = (marker ? 0x80 : 0) | payloadType;
  buf.writeUInt16BE(seq, 2);
  buf.writeUInt32BE(timestamp >>> 0, 4);
  buf.writeUInt32BE(ssrc >>> 0, 8);
  payload.copy(buf, 12);
  return buf;
}

/** What a consumer hands its transport, kept for reading. */
function capturingLink() {
  const sent: Buffer[] = [];
  const rtcp: Buffer[] = [];
  return {
    sent,
    rtcp,
    link: {
      ready: () => true,
      sendBuffer: () => Buffer.alloc(2048),
      sendRtp: (buf: Buffer, length: number) => void sent.push(Buffer.from(buf.subarray(0, length))),
      sendRtcp: (packet: Buffer) => void rtcp.push(packet),
    },
  };
}

describe('RTCP feedback (RFC 4585 §6, RFC 5104 §4.3.1)', () => {
  it('reads back the NACK, PLI and FIR it builds, NACK bitmasks included', () => {
    const lost = [10, 11, 13, 26, 27, 65535, 0, 400];
    const compound = Buffer.concat([buildNack(1, 2, lost), buildPli(1, 3), buildFir(1, 4, 7)]);
    const feedback = readRtcpFeedback(compound, compound.length)!;
    expect(feedback).toHaveLength(3);
    const nack = feedback[0]!;
    expect(nack.type === 'nack' && [...nack.lost].sort((a, b) => a - b)).toEqual([...lost].sort((a, b) => a - b));
    // 10 carries 11, 13 and 26 in its bitmask (26 is bit 15); 27, 17 after it, starts a new FCI.
    expect(buildNack(1, 2, [10, 11, 13, 26]).length).toBe(16);
    expect(feedback[1]).toEqual({ type: 'pli', senderSsrc: 1, mediaSsrc: 3 });
    expect(feedback[2]).toEqual({ type: 'fir', senderSsrc: 1, mediaSsrc: 4, seqNr: 7 });
  });

  it('refuses a malformed compound and skips feedback it does not act on', () => {
    const pli = buildPli(1, 3);
    expect(readRtcpFeedback(pli.subarray(0, 10), 10)).toBeNull();
    const otherPsfb = Buffer.from(pli);
    otherPsfb[0] = 0x80 | 15; // application layer feedback (REMB): not ours
    expect(readRtcpFeedback(otherPsfb, otherPsfb.length)).toEqual([]);
  });
});

describe('KeyFrameRequestThrottle', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the first request at once, folds the next ones of the window into one sent when it ends', () => {
    vi.useFakeTimers();
    let now = 1000;
    let sent = 0;
    const throttle = new KeyFrameRequestThrottle(500, () => sent++, () => now);
    throttle.request();
    expect(sent).toBe(1);
    for (let i = 0; i < 10; i++) throttle.request();
    expect(sent).toBe(1);
    now += 500;
    vi.advanceTimersByTime(500);
    expect(sent).toBe(2);
    now += 100;
    vi.advanceTimersByTime(100);
    expect(sent).toBe(2);
    now += 1000;
    throttle.request();
    expect(sent).toBe(3);
    expect({ requested: throttle.requested, sent: throttle.sent }).toEqual({ requested: 12, sent: 3 });
    throttle.request();
    throttle.close();
    vi.advanceTimersByTime(10_000);
    expect(sent).toBe(3);
  });
});

describe('RtpPacketCache', () => {
  it('returns the packet asked for, never another one in its slot', () => {
    const cache = new RtpPacketCache(4);
    const p = rtp(96, 7, 0, 55, Buffer.from([1, 2, 3]));
    cache.store(55, 7, p, p.length);
    expect(cache.get(55, 7)).toEqual(p);
    expect(cache.get(56, 7)).toBeNull();
    const q = rtp(96, 11, 0, 55, Buffer.from([9]));
    cache.store(55, 11, q, q.length);
    expect(cache.get(55, 7)).toBeNull();
    expect(cache.get(55, 11)).toEqual(q);
  });
});

describe('validateRtpParameters', () => {
  it('copies valid parameters and refuses bad ones with a TypeError', () => {
    const input = { mid: '0', codecs: [VP8, RTX], encodings: [{ ssrc: 1, rtx: { ssrc: 2 } }] };
    const clean = validateRtpParameters('video', input);
    expect(clean.codecs[1]!.parameters).toEqual({ apt: 96 });
    clean.codecs[0]!.rtcpFeedback!.push({ type: 'x' });
    expect(VP8.rtcpFeedback).toHaveLength(2);
    expect(() => validateRtpParameters('audio', input)).toThrow(TypeError);
    expect(() => validateRtpParameters('video', { codecs: [RTX], encodings: [{ ssrc: 1 }] })).toThrow(/first codec/);
    expect(() => validateRtpParameters('video', { codecs: [VP8, { ...RTX, parameters: { apt: 100 } }], encodings: [{ ssrc: 1 }] })).toThrow(/apt/);
    expect(() => validateRtpParameters('video', { codecs: [VP8, { ...VP8 }], encodings: [{ ssrc: 1 }] })).toThrow(/duplicate/);
    expect(() => validateRtpParameters('video', { codecs: [VP8], encodings: [{}] })).toThrow(/ssrc or a rid/);
    expect(() => validateRtpParameters('video', { codecs: [VP8], encodings: [{ ssrc: -1 }] })).toThrow(/ssrc/);
  });
});

/** A STUN Binding request carrying only a USERNAME. */
function stunWithUsername(username: string): Buffer {
  const user = Buffer.from(username);
  const padded = (user.length + 3) & ~3;
  const msg = Buffer.alloc(20 + 4 + padded);
  msg.writeUInt16BE(0x0001, 0);
  msg.writeUInt16BE(4 + padded, 2);
  msg.writeUInt32BE(0x2112a442, 4);
  msg.writeUInt16BE(0x0006, 20);
  msg.writeUInt16BE(user.length, 22);
  user.copy(msg, 24);
  return msg;
}

describe('STUN USERNAME', () => {
  it('is read before any integrity check, and absent from a short or attribute-less message', () => {
    expect(stunUsername(stunWithUsername('u1:x'))).toBe('u1:x');
    const user = Buffer.from('abcd:efgh');
    const msg = Buffer.alloc(20 + 4 + 12);
    msg.writeUInt16BE(0x0001, 0);
    msg.writeUInt16BE(16, 2);
    msg.writeUInt32BE(0x2112a442, 4);
    msg.writeUInt16BE(0x0006, 20);
    msg.writeUInt16BE(user.length, 22);
    user.copy(msg, 24);
    expect(stunUsername(msg)).toBe('abcd:efgh');
    expect(stunUsername(msg.subarray(0, 20))).toBeNull();
    msg.writeUInt16BE(200, 22);
    expect(stunUsername(msg)).toBeNull();
  });
});

describe('Router, transports, producers and consumers', () => {
  let sfu: Sfu;
  let server: WebRtcServer;
  let router: Router;

  beforeAll(async () => {
    sfu = await Sfu.create();
    server = await sfu.createWebRtcServer({ listenInfos: [{ ip: '127.0.0.1', port: 0 }] });
  });

  afterAll(() => {
    sfu.close();
  });

  afterEach(() => {
    router?.close();
  });

  function videoProducer(encodings: { ssrc: number; rtx?: { ssrc: number } }[], withRtx = false): Producer {
    router = sfu.createRouter();
    const transport = router.createWebRtcTransport({ webRtcServer: server });
    return transport.produce({ kind: 'video', rtpParameters: { codecs: withRtx ? [VP8, RTX] : [VP8], encodings }, keyFrameRequestDelay: 0 });
  }

  it('keeps the consumer\'s sequence and timestamps continuous when it switches to another layer, and asks for a key frame', () => {
    const producer = videoProducer([{ ssrc: 1000 }, { ssrc: 2000 }]);
    const { sent, link } = capturingLink();
    const consumer = new Consumer(producer, { mid: '0', paused: false }, link);
    expect(consumer.currentLayer).toBe(1);
    const payload = Buffer.from([0x10, 0, 0, 0]);
    const feed = (ssrc: number, seq: number, ts: number) => {
      const p = rtp(96, seq, ts, ssrc, payload, true);
      producer.receiveRtp(p, p.length, 12, performance.now());
    };
    for (let i = 0; i < 5; i++) {
      feed(2000, 500 + i, 90_000 + i * 3000);
      feed(1000, 40_000 + i, 7_000_000 + i * 3000);
    }
    expect(sent).toHaveLength(5);
    const requestsBefore = producer.getStats().keyFrameRequestsReceived;
    consumer.setPreferredLayer(0);
    expect(producer.getStats().keyFrameRequestsReceived).toBe(requestsBefore + 1);
    for (let i = 5; i < 10; i++) {
      feed(2000, 500 + i, 90_000 + i * 3000);
      feed(1000, 40_000 + i, 7_000_000 + i * 3000);
    }
    expect(sent).toHaveLength(10);
    const ssrc = consumer.rtpParameters.encodings[0]!.ssrc!;
    expect(sent.every((p) => p.readUInt32BE(8) === ssrc)).toBe(true);
    const seqs = sent.map((p) => p.readUInt16BE(2));
    expect(seqs.every((s, i) => i === 0 || ((s - seqs[i - 1]!) & 0xffff) === 1)).toBe(true);
    const ts = sent.map((p) => p.readUInt32BE(4));
    expect(ts.every((t, i) => i === 0 || ((t - ts[i - 1]!) | 0) > 0)).toBe(true);
    // The payload is the new layer's, the marker bit the sender's.
    expect(sent.every((p) => (p[1]! & 0x80) !== 0)).toBe(true);
    expect(() => consumer.setPreferredLayer(2)).toThrow(TypeError);
  });

  it('answers a NACK over RTX (RFC 4588: own SSRC and sequence, the original sequence first in the payload)', () => {
    const producer = videoProducer([{ ssrc: 3000, rtx: { ssrc: 3001 } }], true);
    const { sent, link } = capturingLink();
    const consumer = new Consumer(producer, { mid: '0', paused: false }, link);
    const [encoding] = consumer.rtpParameters.encodings;
    expect(encoding!.rtx?.ssrc).toBeTypeOf('number');
    expect(consumer.rtpParameters.codecs.map((c) => c.payloadType)).toEqual([96, 97]);
    for (let i = 0; i < 3; i++) {
      const p = rtp(96, 10 + i, 1000 + i * 3000, 3000, Buffer.from([0x10, i, 0xaa, 0xbb]), true);
      producer.receiveRtp(p, p.length, 12, performance.now());
    }
    const original = sent[1]!;
    consumer.receiveNack([original.readUInt16BE(2), (original.readUInt16BE(2) + 5000) & 0xffff]);
    expect(sent).toHaveLength(4);
    const rtx = sent[3]!;
    expect(rtx[1]! & 0x7f).toBe(97);
    expect(rtx.readUInt32BE(8)).toBe(encoding!.rtx!.ssrc);
    expect(rtx.readUInt16BE(12)).toBe(original.readUInt16BE(2));
    expect(rtx.subarray(14)).toEqual(original.subarray(12));
    expect(rtx.readUInt32BE(4)).toBe(original.readUInt32BE(4));
    expect(consumer.getStats()).toMatchObject({ nacksReceived: 1, retransmittedPackets: 1, nackMisses: 1 });
    // A NACK naming one packet a thousand times gets it once; one naming a thousand packets, a bounded answer.
    consumer.receiveNack(Array.from({ length: 1000 }, () => original.readUInt16BE(2)));
    expect(consumer.getStats().retransmittedPackets).toBe(2);
    consumer.receiveNack(Array.from({ length: 1000 }, (_, i) => (original.readUInt16BE(2) + i) & 0xffff));
    expect(consumer.getStats()).toMatchObject({ retransmittedPackets: 4, nackMisses: 1 + 62 });
  });

  it('sends the publisher\'s SR on in its own timestamp space, and reports on what the producer received', () => {
    const producer = videoProducer([{ ssrc: 6000 }]);
    const { sent, rtcp, link } = capturingLink();
    new Consumer(producer, { mid: '0', paused: false }, link);
    for (let i = 0; i < 4; i++) {
      const p = rtp(96, 100 + i, 50_000 + i * 3000, 6000, Buffer.from([0x10, 1, 2]), true);
      producer.receiveRtp(p, p.length, 12, 1000 + i * 33);
    }
    producer.receiveSenderReport(6000, 3_900_000_000_000, 50_000 + 4500, 1200);
    producer.receiveSenderReport(7000, 3_900_000_000_000, 0, 1200); // not ours: ignored
    expect(rtcp).toHaveLength(1);
    const [sr, sdes] = parseRtcpCompound(rtcp[0]!)!;
    const first = sent[0]!;
    expect(sr).toMatchObject({ type: 'sr', ssrc: first.readUInt32BE(8), ntpMs: 3_900_000_000_000, packetCount: 4 });
    expect(sr?.type === 'sr' ? sr.rtpTimestamp : null).toBe((first.readUInt32BE(4) + 4500) >>> 0);
    expect(sdes!.type).toBe('sdes');
    const [block] = producer.takeReportBlocks(2000);
    expect(block).toMatchObject({ ssrc: 6000, extendedHighestSequence: 103, cumulativeLost: 0 });
    expect(block!.lastSenderReport).not.toBe(0);
  });

  it('restores a received RTX packet to its original stream, and caches it', () => {
    const producer = videoProducer([{ ssrc: 4000, rtx: { ssrc: 4001 } }], true);
    const { sent, link } = capturingLink();
    new Consumer(producer, { mid: '0', paused: false }, link);
    const osn = Buffer.from([0x01, 0x2c]); // 300
    const packet = rtp(97, 77, 5000, 4001, Buffer.concat([osn, Buffer.from([0x10, 0x42])]));
    producer.receiveRtp(packet, packet.length, 12, performance.now());
    expect(producer.getStats()).toMatchObject({ rtxPacketsReceived: 1, packetsReceived: 1, droppedPackets: 0 });
    const restored = producer.cachedPacket(4000, 300)!;
    expect(restored[1]! & 0x7f).toBe(96);
    expect(restored.readUInt32BE(8)).toBe(4000);
    expect(restored.subarray(12)).toEqual(Buffer.from([0x10, 0x42]));
    expect(sent).toHaveLength(1);
    // An undeclared payload type is dropped.
    const stray = rtp(100, 78, 5000, 4000, Buffer.from([1]));
    producer.receiveRtp(stray, stray.length, 12, performance.now());
    expect(producer.getStats().droppedPackets).toBe(1);
  });

  it('closes in cascade: a producer takes its consumers, a transport its producers and consumers, the router everything', () => {
    router = sfu.createRouter();
    const t1 = router.createWebRtcTransport({ webRtcServer: server });
    const t2 = router.createWebRtcTransport({ webRtcServer: server });
    const audio = t1.produce({ kind: 'audio', rtpParameters: { codecs: [OPUS], encodings: [{ ssrc: 11 }] } });
    const video = t1.produce({ kind: 'video', rtpParameters: { codecs: [VP8], encodings: [{ ssrc: 12 }] } });
    expect(() => t1.produce({ kind: 'video', rtpParameters: { codecs: [VP8], encodings: [{ ssrc: 12 }] } })).toThrow(/already produced/);
    const ca = t2.consume({ producerId: audio.id });
    const cv = t2.consume({ producerId: video.id });
    const cv2 = t1.consume({ producerId: video.id });
    expect([ca.rtpParameters.mid, cv.rtpParameters.mid, cv2.rtpParameters.mid]).toEqual(['0', '1', '0']);
    expect(sfu.liveCounts()).toMatchObject({ routers: 1, transports: 2, producers: 2, consumers: 3 });
    expect(server.transportCount).toBe(2);

    const events: string[] = [];
    cv.on('producerclose', () => events.push('cv producerclose'));
    cv2.on('producerclose', () => events.push('cv2 producerclose'));
    video.close();
    expect(events).toEqual(['cv producerclose', 'cv2 producerclose']);
    expect(router.canConsume(video.id)).toBe(false);
    expect(() => t2.consume({ producerId: video.id })).toThrow(/not found/);
    expect(sfu.liveCounts()).toMatchObject({ producers: 1, consumers: 1 });

    ca.on('transportclose', () => events.push('ca transportclose'));
    t2.close();
    expect(events).toContain('ca transportclose');
    expect(sfu.liveCounts()).toMatchObject({ routers: 1, transports: 1, producers: 1, consumers: 0 });
    expect(server.transportCount).toBe(1);

    audio.on('transportclose', () => events.push('audio transportclose'));
    t1.on('routerclose', () => events.push('t1 routerclose'));
    router.close();
    expect(events.slice(-2).sort()).toEqual(['audio transportclose', 't1 routerclose']);
    expect(sfu.liveCounts()).toMatchObject({ routers: 0, transports: 0, producers: 0, consumers: 0 });
    expect(server.transportCount).toBe(0);
    expect(() => t1.produce({ kind: 'audio', rtpParameters: { codecs: [OPUS], encodings: [{ ssrc: 13 }] } })).toThrow(InvalidStateError);
    expect(() => router.createWebRtcTransport({ webRtcServer: server })).toThrow(InvalidStateError);
  });

  it('closes the transports of a port set that closes', async () => {
    const own = await sfu.createWebRtcServer({ listenInfos: [{ ip: '127.0.0.1', port: 0 }] });
    router = sfu.createRouter();
    const transport = router.createWebRtcTransport({ webRtcServer: own });
    transport.produce({ kind: 'audio', rtpParameters: { codecs: [OPUS], encodings: [{ ssrc: 21 }] } });
    let told = false;
    transport.on('webrtcserverclose', () => (told = true));
    own.close();
    expect(told).toBe(true);
    expect(transport.closed).toBe(true);
    expect(sfu.liveCounts()).toMatchObject({ transports: 0, producers: 0, webRtcServers: 1 });
  });

  it('asks the publisher for key frames by PLI, or by FIR (sequence number moving on) when only ccm fir was negotiated, never for audio', () => {
    const sent: Buffer[] = [];
    const link = { sendRtcp: (p: Buffer) => void sent.push(p), rtcpSsrc: 99 };
    const pli = new ProducerImpl({ kind: 'video', rtpParameters: { codecs: [VP8], encodings: [{ ssrc: 5 }, { ssrc: 6 }] }, keyFrameRequestDelay: 0 }, link);
    pli.requestKeyFrame();
    expect(sent.flatMap((p) => readRtcpFeedback(p, p.length)!)).toEqual([
      { type: 'pli', senderSsrc: 99, mediaSsrc: 5 },
      { type: 'pli', senderSsrc: 99, mediaSsrc: 6 },
    ]);
    sent.length = 0;
    const fir = new ProducerImpl({ kind: 'video', rtpParameters: { codecs: [{ ...VP8, rtcpFeedback: [{ type: 'ccm', parameter: 'fir' }] }], encodings: [{ ssrc: 7 }] }, keyFrameRequestDelay: 0 }, link);
    fir.requestKeyFrame();
    fir.requestKeyFrame();
    expect(sent.flatMap((p) => readRtcpFeedback(p, p.length)!)).toEqual([
      { type: 'fir', senderSsrc: 99, mediaSsrc: 7, seqNr: 0 },
      { type: 'fir', senderSsrc: 99, mediaSsrc: 7, seqNr: 1 },
    ]);
    sent.length = 0;
    new ProducerImpl({ kind: 'audio', rtpParameters: { codecs: [OPUS], encodings: [{ ssrc: 8 }] } }, link).requestKeyFrame();
    new ProducerImpl({ kind: 'video', rtpParameters: { codecs: [{ ...VP8, rtcpFeedback: [] }], encodings: [{ ssrc: 9 }] } }, link).requestKeyFrame();
    expect(sent).toEqual([]);
    for (const p of [pli, fir]) p.close();
  });

  it('never consumes another router\'s producer', () => {
    router = sfu.createRouter();
    const other = sfu.createRouter();
    try {
      const producer = router.createWebRtcTransport({ webRtcServer: server }).produce({ kind: 'audio', rtpParameters: { codecs: [OPUS], encodings: [{ ssrc: 31 }] } });
      const foreign = other.createWebRtcTransport({ webRtcServer: server });
      expect(other.canConsume(producer.id)).toBe(false);
      expect(() => foreign.consume({ producerId: producer.id })).toThrow(/not found/);
      expect(foreign.consumerCount).toBe(0);
    } finally {
      other.close();
    }
  });

  it('the shared port set finds a transport by the ufrag of its checks, then by source address, and forgets the addresses of one that leaves', async () => {
    const own = await sfu.createWebRtcServer({ listenInfos: [{ ip: '127.0.0.1', port: 0 }] });
    const client = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', () => resolve()));
    const got: string[] = [];
    const fake = (ufrag: string): WebRtcServerUser => {
      const user: WebRtcServerUser = {
        usernameFragment: ufrag,
        // The real transport checks MESSAGE-INTEGRITY first; the fake takes every check.
        receiveStun: (_p: Buffer, tuple: IceTuple) => {
          got.push(`${ufrag} check`);
          own.bindTuple(user, tuple);
        },
        receivePacket: () => void got.push(`${ufrag} packet`),
        webRtcServerClosed: () => void got.push(`${ufrag} closed`),
      };
      return user;
    };
    const [u1, u2] = [fake('u1'), fake('u2')];
    own.register(u1);
    own.register(u2);
    const send = async (packet: Buffer, expectGot: number, expectUnknown: number) => {
      client.send(packet, own.ports[0]!, '127.0.0.1');
      expect(await eventually(() => got.length === expectGot && own.unknownPackets === expectUnknown, 10_000)).toBe(true);
    };
    const media = Buffer.from([0x80, 0x60, 0, 1]);
    try {
      await send(media, 0, 1);
      await send(stunWithUsername('nobody:x'), 0, 2);
      await send(stunWithUsername('u1:x'), 1, 2);
      await send(media, 2, 2);
      // The same address checks for another transport: it is that one's now.
      await send(stunWithUsername('u2:x'), 3, 2);
      await send(media, 4, 2);
      expect(got).toEqual(['u1 check', 'u1 packet', 'u2 check', 'u2 packet']);
      own.unregister(u2);
      await send(media, 4, 3);
    } finally {
      client.close();
      own.close();
    }
    expect(got.slice(4)).toEqual(['u1 closed']);
  });

  it('validates options at the boundary', async () => {
    router = sfu.createRouter();
    const transport = router.createWebRtcTransport({ webRtcServer: server });
    expect(() => transport.produce({ kind: 'data' as never, rtpParameters: { codecs: [OPUS], encodings: [{ ssrc: 1 }] } })).toThrow(/invalid kind/);
    expect(() => transport.produce({ kind: 'video', rtpParameters: { codecs: [VP8], encodings: [{ rid: 'h' }] } })).toThrow(/rid-only/);
    await expect(transport.connect({ dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'nope' }] } })).rejects.toThrow(TypeError);
    expect(sfu.liveCounts().producers).toBe(0);
  });
});
