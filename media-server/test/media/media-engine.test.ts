/**
 * The relay end to end: real UDP on 127.0.0.1, two test phones bridged
 * through a MediaEngine worker.
 */
import dgram from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { goertzelAmplitude } from '../../src/media/audio/goertzel.ts';
import { generateTone } from '../../src/media/audio/tone-generator.ts';
import { dtmfFrequencies, type DtmfDigit } from '../../src/media/dtmf/dtmf-digits.ts';
import { InbandDtmfDetector } from '../../src/media/dtmf/inband-dtmf-detector.ts';
import { staticAudioPath } from '../../src/media/media-player/static-audio.ts';
import type { MediaEvent } from '../../src/media/engine/control-messages.ts';
import { MediaEngine } from '../../src/media/engine/media-engine.ts';
import type { BridgeHandle } from '../../src/media/bridge/bridge-handle.ts';
import { SrtpContext } from '../../src/media/srtp/srtp-context.ts';
import { generateSrtpMasterKey } from '../../src/media/srtp/sdes-crypto.ts';
import { eventually, sleep, TestPhone, type TestPhoneOptions } from './support/test-phone.ts';

/** Amplitude of `hz` in the received audio, over the newest whole 20 ms frames. */
function level(pcm: Int16Array, hz: number, frames = 25): number {
  const n = Math.min(pcm.length, frames * 160);
  return goertzelAmplitude(pcm, hz, 8000, pcm.length - n, n);
}

/**
 * Every test runs on both packet I/O implementations MEDIA_NATIVE can select (issue 12): Node's dgram
 * and the addon of media-server/native. "on" fails the engine's start when the addon is not built.
 */
describe.each(['off', 'on'] as const)('packet I/O MEDIA_NATIVE=%s', (packetIo) => {
  let engine: MediaEngine;
  const phones: TestPhone[] = [];
  const bridges: BridgeHandle[] = [];
  const events: MediaEvent[] = [];

  beforeAll(async () => {
    engine = await MediaEngine.start({ workers: 2, portRange: { min: 41000, max: 41999 }, bindAddress: '127.0.0.1', rtcpIntervalMs: 400, packetIo });
    expect(await engine.packetIo()).toEqual(packetIo === 'on' ? ['native', 'native'] : ['dgram', 'dgram']);
    for (const type of ['dtmf', 'latched', 'playback-ended', 'dtmf-sent', 'leg-error'] as const) {
      engine.on(type, (e: MediaEvent) => events.push(e));
    }
  });

  afterEach(async () => {
    for (const p of phones.splice(0)) p.close();
    for (const b of bridges.splice(0)) await b.close();
    events.length = 0;
  });

  afterAll(async () => {
    await engine.stop();
  });

  /** Two phones joined by a bridge, both already sending. */
  async function call(a: TestPhoneOptions, b: TestPhoneOptions) {
    const phoneA = await TestPhone.open(a);
    const phoneB = await TestPhone.open(b);
    phones.push(phoneA, phoneB);
    const bridge = await engine.createBridge();
    bridges.push(bridge);
    const legA = await bridge.addLeg({
      legId: 'a',
      codec: { name: a.codec, payloadType: phoneA.payloadType },
      telephoneEventPayloadType: a.telephoneEventPayloadType ?? null,
      remote: phoneA.address,
    });
    const legB = await bridge.addLeg({
      legId: 'b',
      codec: { name: b.codec, payloadType: phoneB.payloadType },
      telephoneEventPayloadType: b.telephoneEventPayloadType ?? null,
      remote: phoneB.address,
    });
    phoneA.start(legA);
    phoneB.start(legB);
    return { phoneA, phoneB, bridge, legA, legB };
  }

  describe('MediaEngine bridging two RTP phones', () => {
    it('carries audio both ways, PCMU to PCMU, with continuous headers', async () => {
      const { phoneA, phoneB, bridge, legA } = await call({ codec: 'PCMU', toneHz: 1000 }, { codec: 'PCMU', toneHz: 1500 });
      expect(legA.address).toBe('127.0.0.1');
      expect(legA.rtpPort % 2).toBe(0);
      expect(legA.rtcpPort).toBe(legA.rtpPort + 1);
      expect(await eventually(() => phoneA.received.length >= 50 && phoneB.received.length >= 50)).toBe(true);

      // Each end hears the other's tone, not its own.
      const atA = phoneA.audio();
      const atB = phoneB.audio();
      expect(level(atA, 1500)).toBeGreaterThan(6000);
      expect(level(atA, 1000)).toBeLessThan(300);
      expect(level(atB, 1000)).toBeGreaterThan(6000);
      expect(level(atB, 1500)).toBeLessThan(300);

      // One SSRC per direction, sequence numbers consecutive, timestamps 160 apart.
      for (const phone of [phoneA, phoneB]) {
        const rx = phone.received;
        expect(new Set(rx.map((p) => p.ssrc)).size).toBe(1);
        for (let i = 1; i < rx.length; i++) {
          expect((rx[i]!.sequenceNumber - rx[i - 1]!.sequenceNumber) & 0xffff).toBe(1);
          expect((rx[i]!.timestamp - rx[i - 1]!.timestamp) >>> 0).toBe(160);
        }
      }
      // Rewritten, not the senders' own SSRCs.
      expect(phoneA.received[0]!.ssrc).not.toBe(phoneB.ssrc);

      const stats = await bridge.stats();
      const a = stats.find((s) => s.legId === 'a')!;
      const b = stats.find((s) => s.legId === 'b')!;
      expect(a.latched && b.latched).toBe(true);
      expect(a.received.packets).toBeGreaterThanOrEqual(50);
      expect(a.received.bytes).toBe(a.received.packets * 160);
      expect(a.received.lost).toBe(0);
      expect(b.sent.packets).toBeGreaterThanOrEqual(Math.min(a.received.packets, phoneB.received.length) - 2);
      const latched = events.filter((e): e is Extract<MediaEvent, { type: 'latched' }> => e.type === 'latched' && e.channel === 'rtp');
      expect(latched.map((e) => e.legId).sort()).toEqual(['a', 'b']);
    });

    it('latches to where RTP really comes from and ignores other sources', async () => {
      const phoneA = await TestPhone.open({ codec: 'PCMU', toneHz: 1000 });
      const phoneB = await TestPhone.open({ codec: 'PCMU', toneHz: 1500 });
      const rogue = await TestPhone.open({ codec: 'PCMU', toneHz: 700 });
      phones.push(phoneA, phoneB, rogue);
      const bridge = await engine.createBridge();
      bridges.push(bridge);
      // A's SDP names an address nothing listens on, as behind a NAT; B's SDP is not known yet.
      const legA = await bridge.addLeg({ legId: 'a', codec: { name: 'PCMU', payloadType: 0 }, remote: { address: '127.0.0.1', rtpPort: 9 } });
      const legB = await bridge.addLeg({ legId: 'b', codec: { name: 'PCMU', payloadType: 0 } });
      phoneA.start(legA);
      phoneB.start(legB);
      expect(await eventually(() => phoneA.received.length >= 20 && phoneB.received.length >= 20)).toBe(true);
      const latched = events.filter((e) => e.type === 'latched' && e.channel === 'rtp');
      expect(latched).toContainEqual(expect.objectContaining({ legId: 'a', port: phoneA.address.rtpPort }));
      expect(latched).toContainEqual(expect.objectContaining({ legId: 'b', port: phoneB.address.rtpPort }));
      // A stranger sending to A's port is not relayed while A is talking.
      rogue.start(legA);
      await sleep(300);
      expect(level(phoneB.audio(), 700, 10)).toBeLessThan(300);
      expect(level(phoneB.audio(), 1000, 10)).toBeGreaterThan(6000);
      const stats = (await bridge.stats()).find((s) => s.legId === 'a')!;
      expect(stats.remote).toMatchObject({ address: '127.0.0.1', rtpPort: phoneA.address.rtpPort });
      expect(stats.dropped).toBeGreaterThan(5);
      expect(rogue.received.length).toBe(0);
    });

    it('transcodes between a PCMU leg and a PCMA leg', async () => {
      const { phoneA, phoneB } = await call({ codec: 'PCMU', toneHz: 1000 }, { codec: 'PCMA', toneHz: 1500 });
      expect(await eventually(() => phoneA.received.length >= 40 && phoneB.received.length >= 40)).toBe(true);
      expect(phoneB.received.every((p) => p.payloadType === 8)).toBe(true);
      expect(phoneA.received.every((p) => p.payloadType === 0)).toBe(true);
      expect(level(phoneB.audio(), 1000)).toBeGreaterThan(6000);
      expect(level(phoneA.audio(), 1500)).toBeGreaterThan(6000);
      expect(level(phoneB.audio(), 1500)).toBeLessThan(300);
    });

    it('reports RFC 4733 digits as events once each and relays them, mapping the payload type', async () => {
      const { phoneA, phoneB, bridge } = await call(
        { codec: 'PCMU', toneHz: 1000, telephoneEventPayloadType: 101 },
        { codec: 'PCMA', toneHz: 1500, telephoneEventPayloadType: 96 },
      );
      await eventually(() => phoneB.received.length > 5);
      await phoneA.sendDigit('5', 120);
      await phoneA.sendDigit('#', 80);
      expect(await eventually(() => events.filter((e) => e.type === 'dtmf').length >= 2)).toBe(true);
      await sleep(100);
      const dtmf = events.filter((e) => e.type === 'dtmf');
      expect(dtmf.map((e) => [e.legId, e.digit, e.durationMs, e.source])).toEqual([
        ['a', '5', 120, 'rfc4733'],
        ['a', '#', 80, 'rfc4733'],
      ]);
      expect(await eventually(() => phoneB.digits.length >= 2)).toBe(true);
      expect(phoneB.digits).toEqual([
        { digit: '5', durationMs: 120 },
        { digit: '#', durationMs: 80 },
      ]);
      expect(phoneB.received.some((p) => p.payloadType === 96)).toBe(true);
      expect(phoneB.received.some((p) => p.payloadType === 101)).toBe(false);

      // And the engine sends digits into a leg itself.
      await bridge.sendDtmf('a', '7*', { durationMs: 60 });
      expect(await eventually(() => phoneA.digits.length >= 2)).toBe(true);
      expect(phoneA.digits).toEqual([
        { digit: '7', durationMs: 60 },
        { digit: '*', durationMs: 60 },
      ]);
      expect(await eventually(() => events.some((e) => e.type === 'dtmf-sent'))).toBe(true);
    });

    it('detects in-band DTMF on a leg without telephone-event, and sends digits to it as tones', async () => {
      const phoneA = await TestPhone.open({ codec: 'PCMU', toneHz: 1000, telephoneEventPayloadType: 101 });
      const phoneB = await TestPhone.open({ codec: 'PCMA', toneHz: 1500 });
      phones.push(phoneA, phoneB);
      const bridge = await engine.createBridge();
      bridges.push(bridge);
      const legA = await bridge.addLeg({ legId: 'a', codec: { name: 'PCMU', payloadType: 0 }, telephoneEventPayloadType: 101, remote: phoneA.address });
      const legB = await bridge.addLeg({ legId: 'b', codec: { name: 'PCMA', payloadType: 8 }, remote: phoneB.address, inbandDtmf: true });
      phoneA.start(legA);
      phoneB.start(legB);
      await eventually(() => phoneB.received.length > 5);

      // B's gateway plays the digits as tones in the audio.
      const keys = (digits: string) => {
        const frames: Int16Array[] = [];
        for (const d of digits) frames.push(generateTone(dtmfFrequencies(d as DtmfDigit), 6000, 800), new Int16Array(800));
        const all = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
        frames.reduce((at, f) => (all.set(f, at), at + f.length), 0);
        return all;
      };
      phoneB.sendAudio(keys('93'));
      expect(await eventually(() => events.filter((e) => e.type === 'dtmf').length >= 2)).toBe(true);
      expect(events.filter((e) => e.type === 'dtmf').map((e) => [e.legId, e.digit, e.source])).toEqual([
        ['b', '9', 'inband'],
        ['b', '3', 'inband'],
      ]);

      // Digits for B go out as tones in its codec, since it has no telephone-event.
      const since = performance.now();
      await bridge.sendDtmf('b', '60', { durationMs: 100 });
      expect(await eventually(() => events.some((e) => e.type === 'dtmf-sent' && e.legId === 'b'))).toBe(true);
      await sleep(100);
      const heard: string[] = [];
      new InbandDtmfDetector((d) => heard.push(d)).process(phoneB.audio(since));
      expect(heard).toEqual(['6', '0']);
    });

    it('plays hold music into a leg instead of the other side, then resumes the relay', async () => {
      const { phoneA, phoneB, bridge } = await call({ codec: 'PCMU', toneHz: 1000 }, { codec: 'PCMU', toneHz: 1500 });
      await eventually(() => phoneA.received.length >= 25);
      expect(level(phoneA.audio(), 1500)).toBeGreaterThan(6000);

      const playbackId = await bridge.play('a', { file: staticAudioPath('hold-music.wav') }, { loop: true });
      expect(playbackId).toBeGreaterThan(0);
      await sleep(200);
      const since = performance.now();
      await eventually(() => phoneA.audio(since).length >= 160 * 40);
      const held = phoneA.audio(since);
      expect(level(held, 1500, 40)).toBeLessThan(300);
      expect(Math.sqrt(held.reduce((e, s) => e + s * s, 0) / held.length)).toBeGreaterThan(300);
      // B still hears A during the hold music.
      expect(level(phoneB.audio(), 1000)).toBeGreaterThan(6000);

      await bridge.stopPlayback('a');
      expect(await eventually(() => events.some((e) => e.type === 'playback-ended' && e.playbackId === playbackId))).toBe(true);
      await sleep(300);
      expect(level(phoneA.audio(), 1500, 10)).toBeGreaterThan(6000);

      // Sequence numbers ran on without a gap across relay → prompt → relay, one SSRC throughout.
      const rx = phoneA.received;
      expect(new Set(rx.map((p) => p.ssrc)).size).toBe(1);
      for (let i = 1; i < rx.length; i++) expect((rx[i]!.sequenceNumber - rx[i - 1]!.sequenceNumber) & 0xffff).toBe(1);
      expect(rx.filter((p) => p.marker).length).toBeGreaterThanOrEqual(3);

      // A prompt from memory that ends by itself.
      const tone = generateTone([440], 5000, 8000 * 0.3);
      const shortId = await bridge.play('a', { pcm: tone });
      expect(await eventually(() => events.some((e) => e.type === 'playback-ended' && e.playbackId === shortId))).toBe(true);

      // A playback replaced by another ends too: whoever waits on the first (ring-back under a greeting) is told.
      const looping = await bridge.play('a', { file: staticAudioPath('hold-music.wav') }, { loop: true });
      const replacing = await bridge.play('a', { pcm: tone });
      expect(await eventually(() => events.some((e) => e.type === 'playback-ended' && e.playbackId === looping))).toBe(true);
      expect(await eventually(() => events.some((e) => e.type === 'playback-ended' && e.playbackId === replacing))).toBe(true);
    });

    it('mutes one direction and holds the other', async () => {
      const { phoneA, phoneB, bridge } = await call({ codec: 'PCMU', toneHz: 1000 }, { codec: 'PCMU', toneHz: 1500 });
      await eventually(() => phoneA.received.length >= 10 && phoneB.received.length >= 10);
      // A muted: what A sends no longer reaches B; B still reaches A.
      // Counted over a window measured in the packets of the direction that flows (a busy machine
      // stretches wall-clock time), after five of them have let what was in flight arrive.
      const window = async (flowing: TestPhone, stopped: TestPhone) => {
        const settle = flowing.received.length + 5;
        await expect.poll(() => flowing.received.length).toBeGreaterThanOrEqual(settle);
        const from = { flowing: flowing.received.length, stopped: stopped.received.length };
        await expect.poll(() => flowing.received.length).toBeGreaterThan(from.flowing + 15);
        return stopped.received.length - from.stopped;
      };
      await bridge.setDirection('a', 'sendonly');
      expect(await window(phoneA, phoneB)).toBeLessThanOrEqual(1);
      // A on hold (recvonly on our side): nothing is sent to A, A's audio flows to B.
      await bridge.setDirection('a', 'recvonly');
      expect(await window(phoneB, phoneA)).toBeLessThanOrEqual(1);
    });

    it('fills RTCP statistics: loss, jitter and round-trip time on both legs', async () => {
      const skip = new Set([1010, 1011, 1020]);
      const { phoneA, phoneB, bridge } = await call({ codec: 'PCMU', toneHz: 1000, skip }, { codec: 'PCMU', toneHz: 1500 });
      await eventually(() => phoneA.received.length >= 30 && phoneB.received.length >= 30);
      // A sends an SR that is forwarded to B; B answers with an RR echoing it; and vice versa.
      for (let round = 0; round < 3; round++) {
        phoneA.sendSenderReport();
        phoneB.sendSenderReport();
        await sleep(150);
        phoneA.sendReceiverReport();
        phoneB.sendReceiverReport();
        await sleep(150);
      }
      let stats = await bridge.stats();
      const until = Date.now() + 3000;
      while (stats.some((s) => s.received.rttMs === null) && Date.now() < until) {
        await sleep(100);
        stats = await bridge.stats();
      }
      const a = stats.find((s) => s.legId === 'a')!;
      const b = stats.find((s) => s.legId === 'b')!;
      expect(a.received.lost).toBe(3);
      expect(b.received.lost).toBe(0);
      expect(a.received.jitterMs).toBeGreaterThanOrEqual(0);
      expect(a.received.jitterMs).toBeLessThan(20);
      expect(a.rtcpReceived).toBeGreaterThan(0);
      expect(a.received.rttMs).not.toBeNull();
      expect(b.received.rttMs).not.toBeNull();
      expect(a.received.rttMs!).toBeLessThan(100);
      // The phones got RTCP back: forwarded SRs and the relay's own reports.
      expect(phoneB.rtcpReceived.flat().some((p) => p.type === 'sr')).toBe(true);
      expect(phoneA.rtcpReceived.flat().some((p) => p.type === 'rr' || p.type === 'sr')).toBe(true);
    });

    it('bridges an SRTP leg to a plain RTP leg', async () => {
      const phoneKey = generateSrtpMasterKey();
      const relayKey = generateSrtpMasterKey();
      const srtp = { tx: new SrtpContext(phoneKey, 'AES_CM_128_HMAC_SHA1_80'), rx: new SrtpContext(relayKey, 'AES_CM_128_HMAC_SHA1_80') };
      const phoneA = await TestPhone.open({ codec: 'PCMU', toneHz: 1000, srtp });
      const phoneB = await TestPhone.open({ codec: 'PCMA', toneHz: 1500 });
      phones.push(phoneA, phoneB);
      const bridge = await engine.createBridge();
      bridges.push(bridge);
      const legA = await bridge.addLeg({
        legId: 'a',
        codec: { name: 'PCMU', payloadType: 0 },
        remote: phoneA.address,
        srtp: { profile: 'AES_CM_128_HMAC_SHA1_80', local: relayKey, remote: phoneKey },
      });
      const legB = await bridge.addLeg({ legId: 'b', codec: { name: 'PCMA', payloadType: 8 }, remote: phoneB.address });
      phoneA.start(legA);
      phoneB.start(legB);
      expect(await eventually(() => phoneA.received.length >= 30 && phoneB.received.length >= 30)).toBe(true);
      expect(level(phoneA.audio(), 1500)).toBeGreaterThan(6000);
      expect(level(phoneB.audio(), 1000)).toBeGreaterThan(6000);

      // RFC 3711 §3.3: a replayed packet and one with a bad tag are dropped, and counted.
      let captured: Buffer | null = null;
      const tap = (msg: Buffer) => {
        captured ??= Buffer.from(msg);
      };
      const send = phoneA.rtp.send.bind(phoneA.rtp) as (msg: Buffer, offset: number, length: number, port: number, address: string) => void;
      phoneA.rtp.send = ((msg: Buffer, offset: number, length: number, port: number, address: string) => {
        tap(msg.subarray(offset, offset + length));
        send(msg, offset, length, port, address);
      }) as typeof phoneA.rtp.send;
      await expect.poll(() => captured !== null).toBe(true);
      phoneA.pause();
      const dropped = async () => (await bridge.stats()).find((s) => s.legId === 'a')!.dropped;
      const before = await dropped();
      send(captured!, 0, captured!.length, legA.rtpPort, '127.0.0.1');
      await expect.poll(dropped).toBe(before + 1);
      const forged = Buffer.from(captured!);
      forged.writeUInt16BE((forged.readUInt16BE(2) + 100) & 0xffff, 2);
      send(forged, 0, forged.length, legA.rtpPort, '127.0.0.1');
      await expect.poll(dropped).toBe(before + 2);
      const heard = phoneB.received.length;
      phoneA.resume();
      await expect.poll(() => phoneB.received.length).toBeGreaterThan(heard + 5);
    });
  });

  describe('MediaEngine resources', () => {
    it('spreads bridges over workers and gives ports back when bridges close', async () => {
      const before = engine.ports.allocated;
      const created = await Promise.all([1, 2, 3, 4].map(() => engine.createBridge()));
      bridges.push(...created);
      expect(new Set(created.map((b) => b.workerIndex)).size).toBe(2);
      for (const b of created) await b.addLeg({ legId: 'x', codec: { name: 'PCMU', payloadType: 0 } });
      expect(engine.ports.allocated).toBe(before + 4);
      await created[0]!.removeLeg('x');
      expect(engine.ports.allocated).toBe(before + 3);
      for (const b of created) await b.close();
      expect(engine.ports.allocated).toBe(before);
      await expect(created[1]!.stats()).rejects.toThrow(/closed/);
    });

    it('opens a leg past a long run of ports that another process holds', async () => {
      // A range of its own, below the kernel's ephemeral ports and the other tests' ranges.
      const min = 20_000 + 200 * Math.floor(Math.random() * 45);
      const held: dgram.Socket[] = [];
      const own = await MediaEngine.start({ workers: 1, portRange: { min, max: min + 119 }, bindAddress: '127.0.0.1', packetIo });
      try {
        // Forty pairs from the start of the range, where the allocator begins.
        for (let port = min; port < min + 80; port++) {
          const socket = dgram.createSocket('udp4');
          await new Promise<void>((resolve, reject) => {
            socket.once('error', reject);
            socket.bind(port, '127.0.0.1', () => resolve());
          });
          held.push(socket);
        }
        const bridge = await own.createBridge();
        const leg = await bridge.addLeg({ legId: 'a', codec: { name: 'PCMU', payloadType: 0 } });
        expect(leg.rtpPort).toBeGreaterThanOrEqual(min + 80);
        expect(own.ports.allocated).toBe(1);
        await bridge.close();
        expect(own.ports.allocated).toBe(0);
      } finally {
        for (const socket of held) socket.close();
        await own.stop();
      }
    });

    it('refuses a third leg and unknown legs with clear errors', async () => {
      const bridge = await engine.createBridge();
      bridges.push(bridge);
      await bridge.addLeg({ legId: 'a', codec: { name: 'PCMU', payloadType: 0 } });
      await bridge.addLeg({ legId: 'b', codec: { name: 'PCMU', payloadType: 0 } });
      await expect(bridge.addLeg({ legId: 'c', codec: { name: 'PCMU', payloadType: 0 } })).rejects.toThrow(/two legs/);
      await expect(bridge.play('nope', { pcm: new Int16Array(160) })).rejects.toThrow(/no leg nope/);
      await expect(bridge.sendDtmf('a', '12x')).rejects.toThrow(/not DTMF digits/);
      await expect(bridge.play('a', { file: '/nonexistent/prompt.wav' })).rejects.toThrow(/ENOENT/);
    });
  });
});
