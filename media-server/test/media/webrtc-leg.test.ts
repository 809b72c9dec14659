/**
 * A WebRTC leg of the media engine against werift's full ICE agent and DTLS
 * client (a peer we did not write), bridged to a plain PCMU phone: ICE-lite
 * checks, DTLS-SRTP keys exported to the leg's own SRTP, Opus ↔ PCMU
 * transcoding, and an ICE restart that moves the path without new keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'werift';
import { goertzelAmplitude } from '../../src/media/audio/goertzel.ts';
import { ToneGenerator } from '../../src/media/audio/tone-generator.ts';
import { OpusCodec } from '../../src/media/codecs/opus-codec.ts';
import type { MediaEvent } from '../../src/media/engine/control-messages.ts';
import { MediaEngine } from '../../src/media/engine/media-engine.ts';
import { LocalSdp } from '../../src/calls/local-sdp.ts';
import { newLocalWebRtc, readPeerWebRtc, webRtcLegSpec, type LocalWebRtc } from '../../src/calls/webrtc-media.ts';
import { parseSdp } from '../../src/sdp/session-description.ts';
import { WEBRTC_TELEPHONE_EVENTS } from '../../src/sdp/negotiate-codecs.ts';
import { eventually, TestPhone } from './support/test-phone.ts';

/**
 * On both packet I/O and SRTP implementations MEDIA_NATIVE can select (issue 12): Node's dgram with the
 * TypeScript SRTP, and the addon of media-server/native. "on" fails the engine's start when it is not built.
 */
describe.each(['off', 'on'] as const)('MEDIA_NATIVE=%s', (packetIo) => {
  let engine: MediaEngine;
  const events: MediaEvent[] = [];

  beforeAll(async () => {
    engine = await MediaEngine.start({ workers: 1, portRange: { min: 45000, max: 45099 }, bindAddress: '127.0.0.1', rtcpIntervalMs: 400, packetIo });
    for (const type of ['dtls-connected', 'leg-error', 'latched'] as const) engine.on(type, (e: MediaEvent) => events.push(e));
  });

  afterAll(async () => {
    await engine.stop();
  });

  /** werift as the browser: sends a 600 Hz tone as Opus, decodes what it receives. */
  async function browserPeer() {
    const pc = new RTCPeerConnection({
      codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 })] },
      iceAdditionalHostAddresses: ['127.0.0.1'],
    });
    const track = new MediaStreamTrack({ kind: 'audio' });
    pc.addTransceiver(track, { direction: 'sendrecv' });
    const decoder = new OpusCodec();
    const heard: number[] = [];
    const frame = new Int16Array(2880);
    pc.onTrack.subscribe((remote) => {
      remote.onReceiveRtp.subscribe((rtp) => {
        const n = decoder.decode(rtp.payload, 0, rtp.payload.length, frame);
        for (let i = 0; i < n; i++) heard.push(frame[i]!);
      });
    });
    const encoder = new OpusCodec();
    const tone = new ToneGenerator([600], 8000, 48000);
    const pcm = new Int16Array(960);
    const out = new Uint8Array(1500);
    let seq = 1;
    let ts = 0;
    const timer = setInterval(() => {
      tone.fill(pcm);
      const n = encoder.encode(pcm, 960, out, 0);
      const header = new RtpHeader({ payloadType: 111, sequenceNumber: seq++ & 0xffff, timestamp: (ts += 960) >>> 0, ssrc: 1234, marker: false });
      track.writeRtp(new RtpPacket(header, Buffer.from(out.subarray(0, n))));
    }, 20);
    return { pc, heard, close: async () => (clearInterval(timer), await pc.close()) };
  }

  describe('WebRTC legs', () => {
    it('connects a werift peer by ICE-lite and DTLS-SRTP, and carries audio both ways through Opus ↔ PCMU', async () => {
      const browser = await browserPeer();
      const phone = await TestPhone.open({ codec: 'PCMU', toneHz: 1500 });
      const bridge = await engine.createBridge();
      try {
        const offer = await browser.pc.createOffer();
        await browser.pc.setLocalDescription(offer);
        const offerSdp = parseSdp(browser.pc.localDescription!.sdp)!;
        const audio = offerSdp.media[0]!;
        const peer = readPeerWebRtc(offerSdp, audio)!;
        expect(peer).not.toBeNull();
        const local: LocalWebRtc = newLocalWebRtc(engine.dtlsFingerprint, 'passive', peer.mid);
        const legW = await bridge.addLeg({ legId: 'a', codec: { name: 'OPUS', payloadType: 111 }, telephoneEventPayloadType: null, remote: null, ssrc: local.ssrc, webrtc: webRtcLegSpec(local, peer) });
        const legP = await bridge.addLeg({ legId: 'b', codec: { name: 'PCMU', payloadType: 0 }, remote: phone.address });
        phone.start(legP);
        const answer = new LocalSdp().build({
          address: legW.address,
          port: legW.rtpPort,
          codecs: [{ payloadType: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' }],
          telephoneEvent: WEBRTC_TELEPHONE_EVENTS[0]!,
          webrtc: local,
        });
        await browser.pc.setRemoteDescription({ type: 'answer', sdp: answer.toString() });

        expect(await eventually(() => events.some((e) => e.type === 'dtls-connected' && e.bridgeId === bridge.id), 10_000)).toBe(true);
        // The phone hears the browser's 600 Hz tone, transcoded to PCMU.
        expect(await eventually(() => phone.received.length > 50, 10_000)).toBe(true);
        const atPhone = phone.audio();
        const n = Math.min(atPhone.length, 4000);
        expect(goertzelAmplitude(atPhone, 600, 8000, atPhone.length - n, n)).toBeGreaterThan(1000);
        // The browser hears the phone's 1500 Hz tone, transcoded to Opus.
        expect(await eventually(() => browser.heard.length > 48000, 10_000)).toBe(true);
        const atBrowser = Int16Array.from(browser.heard.slice(-24000));
        expect(goertzelAmplitude(atBrowser, 1500, 48000, 0, atBrowser.length)).toBeGreaterThan(1000);
        expect(goertzelAmplitude(atBrowser, 600, 48000, 0, atBrowser.length)).toBeLessThan(300);
        const stats = await bridge.stats();
        expect(stats.find((s) => s.legId === 'a')!.received.packets).toBeGreaterThan(50);
        expect(events.some((e) => e.type === 'leg-error')).toBe(false);
      } finally {
        await browser.close();
        phone.close();
        await bridge.close();
      }
    }, 30_000);

    it('refuses a peer whose certificate does not match the SDP fingerprint, and sends it no media', async () => {
      const browser = await browserPeer();
      const bridge = await engine.createBridge();
      events.length = 0;
      try {
        await browser.pc.setLocalDescription(await browser.pc.createOffer());
        const offerSdp = parseSdp(browser.pc.localDescription!.sdp)!;
        const peer = readPeerWebRtc(offerSdp, offerSdp.media[0]!)!;
        const forged = { ...peer, fingerprint: 'sha-256 ' + Array.from({ length: 32 }, () => 'AB').join(':') };
        const local: LocalWebRtc = newLocalWebRtc(engine.dtlsFingerprint, 'passive', peer.mid);
        const leg = await bridge.addLeg({ legId: 'a', codec: { name: 'OPUS', payloadType: 111 }, remote: null, ssrc: local.ssrc, webrtc: webRtcLegSpec(local, forged) });
        const answer = new LocalSdp().build({ address: leg.address, port: leg.rtpPort, codecs: [{ payloadType: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: null }], telephoneEvent: null, webrtc: local });
        await browser.pc.setRemoteDescription({ type: 'answer', sdp: answer.toString() });
        expect(await eventually(() => events.some((e) => e.type === 'leg-error' && /fingerprint/.test(e.message)), 10_000)).toBe(true);
        expect(events.some((e) => e.type === 'dtls-connected')).toBe(false);
        const stats = await bridge.stats();
        expect(stats[0]!.sent.packets).toBe(0);
      } finally {
        await browser.close();
        await bridge.close();
      }
    }, 30_000);
  });
});
