/**
 * The SFU in a worker thread, driven from the main thread over the worker
 * channel: werift publishes audio and video to the thread's sockets and
 * another werift peer receives them; the thread's events and live counts
 * come back as notices and replies, and stopping it frees everything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import { SfuThread, type SfuEvent } from '../../src/sfu/index.ts';
import { eventually } from '../media/support/test-phone.ts';
import { OPUS, OPUS_FRAME, VP8, readClientSdp, sfuSdp, vp8Payload, weriftCodecs } from './support/werift-sfu-client.ts';

const READY_MS = 20_000;
let thread: SfuThread;
const events: SfuEvent[] = [];

beforeAll(async () => {
  thread = await SfuThread.start();
  thread.on('sfu-event', (e) => events.push(e));
});

afterAll(async () => {
  await thread.stop();
});

describe('SFU in a worker thread', () => {
  it('carries A\'s tracks to B through the thread, reports its transports\' states, and closes in cascade', async () => {
    const server = await thread.createWebRtcServer([{ ip: '127.0.0.1', port: 0 }]);
    const routerId = await thread.createRouter();
    const a = new RTCPeerConnection({ codecs: weriftCodecs(), iceAdditionalHostAddresses: ['127.0.0.1'], bundlePolicy: 'max-bundle' });
    const b = new RTCPeerConnection({ codecs: weriftCodecs(), iceAdditionalHostAddresses: ['127.0.0.1'], bundlePolicy: 'max-bundle' });
    const audio = new MediaStreamTrack({ kind: 'audio' });
    const video = new MediaStreamTrack({ kind: 'video' });
    a.addTransceiver(audio, { direction: 'sendonly' });
    a.addTransceiver(video, { direction: 'sendonly' });
    let n = 0;
    const timer = setInterval(() => {
      n++;
      audio.writeRtp(new RtpPacket(new RtpHeader({ payloadType: OPUS.payloadType, sequenceNumber: n, timestamp: n * 960, ssrc: 1 }), OPUS_FRAME));
      video.writeRtp(new RtpPacket(new RtpHeader({ payloadType: VP8.payloadType, sequenceNumber: n, timestamp: n * 1800, ssrc: 2, marker: true }), vp8Payload(n % 30 === 1, n)));
    }, 20);
    const received = { audio: 0, video: 0 };
    b.onTrack.subscribe((track) => track.onReceiveRtp.subscribe(() => received[track.kind as 'audio' | 'video']++));
    try {
      // A publishes.
      const ta = await thread.createWebRtcTransport(routerId, server.id);
      await a.setLocalDescription(await a.createOffer());
      const offer = readClientSdp(a.localDescription!.sdp);
      await thread.connectTransport(ta.id, offer.dtlsParameters);
      const producerIds: string[] = [];
      for (const m of offer.media) {
        producerIds.push(await thread.produce(ta.id, m.kind, { mid: m.mid, codecs: [m.kind === 'audio' ? OPUS : VP8], encodings: [{ ssrc: m.ssrc! }] }));
      }
      await a.setRemoteDescription({ type: 'answer', sdp: sfuSdp(ta, offer.media.map((m) => ({ kind: m.kind, mid: m.mid, direction: 'recvonly', codecs: [m.kind === 'audio' ? OPUS : VP8] })), 'passive') });

      // B subscribes.
      const tb = await thread.createWebRtcTransport(routerId, server.id);
      const consumers = await Promise.all(producerIds.map((id) => thread.consume(tb.id, id)));
      await b.setRemoteDescription({
        type: 'offer',
        sdp: sfuSdp(tb, consumers.map((c) => ({ kind: c.kind, mid: c.rtpParameters.mid!, direction: 'sendonly', codecs: c.rtpParameters.codecs, rtpParameters: c.rtpParameters })), 'actpass'),
      });
      await b.setLocalDescription(await b.createAnswer());
      await thread.connectTransport(tb.id, readClientSdp(b.localDescription!.sdp).dtlsParameters);

      expect(await eventually(() => received.audio > 20 && received.video > 20, READY_MS)).toBe(true);
      for (const id of [ta.id, tb.id]) {
        expect(events).toContainEqual({ type: 'dtlsstatechange', transportId: id, state: 'connected' });
        expect(events).toContainEqual({ type: 'icestatechange', transportId: id, state: 'completed' });
      }
      expect((await thread.consumerStats(consumers[1]!.id)).packetsSent).toBeGreaterThan(20);
      expect(await thread.liveCounts()).toEqual({ routers: 1, transports: 2, producers: 2, consumers: 2, webRtcServers: 1 });
      const restarted = await thread.restartIce(tb.id);
      expect(restarted.usernameFragment).not.toBe(tb.iceParameters.usernameFragment);

      // A's transport closes: its producers go, and with them B's consumers (told as notices).
      await thread.closeTransport(ta.id);
      expect(events.filter((e) => e.type === 'closed').map((e) => e.type === 'closed' && `${e.kind} ${e.reason}`).sort()).toEqual([
        'consumer producerclose',
        'consumer producerclose',
        'producer transportclose',
        'producer transportclose',
      ]);
      expect(await thread.liveCounts()).toEqual({ routers: 1, transports: 1, producers: 0, consumers: 0, webRtcServers: 1 });
      await expect(thread.produce(ta.id, 'audio', { codecs: [OPUS], encodings: [{ ssrc: 5 }] })).rejects.toThrow(/no transport/);

      await thread.closeRouter(routerId);
      expect(events).toContainEqual({ type: 'closed', kind: 'transport', id: tb.id, reason: 'routerclose' });
      await thread.closeWebRtcServer(server.id);
      expect(await thread.liveCounts()).toEqual({ routers: 0, transports: 0, producers: 0, consumers: 0, webRtcServers: 0 });
    } finally {
      clearInterval(timer);
      await a.close();
      await b.close();
    }
  }, 90_000);
});
