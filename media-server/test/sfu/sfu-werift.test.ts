/**
 * The SFU against two real WebRTC peers we did not write (werift's
 * RTCPeerConnection, full ICE agents and DTLS clients): A publishes Opus and
 * VP8, B consumes both. Signalling is what a browser app does with
 * mediasoup-client (support/werift-sfu-client.ts).
 */
import { createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import type { RemoteInfo } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenericNack, MediaStreamTrack, RtcpRrPacket, RtcpSrPacket, RTCPeerConnection, RtcpPayloadSpecificFeedback, PictureLossIndication, RtcpTransportLayerFeedback, RtpHeader, RtpPacket } from 'werift';
import { Sfu, type Consumer, type Producer, type WebRtcServer } from '../../src/sfu/index.ts';
import { selectPacketIo } from '../../src/media/endpoint/udp-socket.ts';
import { buildFir } from '../../src/sfu/rtcp-feedback.ts';
import { eventually } from '../media/support/test-phone.ts';
import { OPUS, OPUS_FRAME, VP8, readClientSdp, sfuSdp, vp8Payload, weriftCodecs } from './support/werift-sfu-client.ts';

const READY_MS = 20_000;
/** Long enough that the burst of PLIs below falls in one window even on a loaded machine. */
const KEY_FRAME_REQUEST_DELAY_MS = 2000;

let sfu: Sfu;

beforeAll(async () => {
  sfu = await Sfu.create();
});

afterAll(() => {
  sfu.close();
});

/** Client A: werift publishing a generated Opus stream and a synthetic VP8 stream; counts the PLIs it gets. */
async function publisher() {
  const pc = new RTCPeerConnection({ codecs: weriftCodecs(), iceAdditionalHostAddresses: ['127.0.0.1'], bundlePolicy: 'max-bundle' });
  const audio = new MediaStreamTrack({ kind: 'audio' });
  const video = new MediaStreamTrack({ kind: 'video' });
  pc.addTransceiver(audio, { direction: 'sendonly' });
  const videoTransceiver = pc.addTransceiver(video, { direction: 'sendonly' });
  let plis = 0;
  videoTransceiver.sender.onPictureLossIndication.subscribe(() => plis++);
  /** SSRCs the SFU's receiver reports spoke of. */
  const reportedOn = new Set<number>();
  videoTransceiver.sender.onRtcp.subscribe((packet) => {
    if (packet.type === 201) for (const r of (packet as RtcpRrPacket).reports) reportedOn.add(r.ssrc);
  });
  let seq = 100;
  let frame = 0;
  const audioTimer = setInterval(() => {
    audio.writeRtp(new RtpPacket(new RtpHeader({ payloadType: OPUS.payloadType, sequenceNumber: seq++ & 0xffff, timestamp: (seq * 960) >>> 0, ssrc: 1, marker: false }), OPUS_FRAME));
  }, 20);
  const videoTimer = setInterval(() => {
    frame++;
    const header = new RtpHeader({ payloadType: VP8.payloadType, sequenceNumber: frame & 0xffff, timestamp: (frame * 3000) >>> 0, ssrc: 2, marker: true });
    video.writeRtp(new RtpPacket(header, vp8Payload(frame % 30 === 1, frame)));
  }, 30);
  return {
    pc,
    plis: () => plis,
    reportedOn,
    close: async () => {
      clearInterval(audioTimer);
      clearInterval(videoTimer);
      await pc.close();
    },
  };
}

/** Client B: werift receiving whatever the SFU offers; records each track's packets. */
function subscriber() {
  const pc = new RTCPeerConnection({ codecs: weriftCodecs(), iceAdditionalHostAddresses: ['127.0.0.1'], bundlePolicy: 'max-bundle' });
  const received: Record<'audio' | 'video', { ssrc: number; seq: number; timestamp: number }[]> = { audio: [], video: [] };
  const senderReports: Record<'audio' | 'video', RtcpSrPacket[]> = { audio: [], video: [] };
  pc.onTrack.subscribe((track) => {
    const kind = track.kind as 'audio' | 'video';
    track.onReceiveRtp.subscribe((rtp) => received[kind].push({ ssrc: rtp.header.ssrc, seq: rtp.header.sequenceNumber, timestamp: rtp.header.timestamp }));
    track.onReceiveRtcp.subscribe((packet) => {
      if (packet.type === 200) senderReports[kind].push(packet as RtcpSrPacket);
    });
  });
  return { pc, received, senderReports };
}

/** Publishes A's two tracks on a new transport of `router`, as a browser app would. */
async function publish(router: ReturnType<Sfu['createRouter']>, server: WebRtcServer, a: Awaited<ReturnType<typeof publisher>>) {
  const transport = router.createWebRtcTransport({ webRtcServer: server });
  await a.pc.setLocalDescription(await a.pc.createOffer());
  const offer = readClientSdp(a.pc.localDescription!.sdp);
  await transport.connect({ dtlsParameters: offer.dtlsParameters });
  const producers: Producer[] = offer.media.map((m) =>
    transport.produce({
      kind: m.kind,
      rtpParameters: { mid: m.mid, codecs: [m.kind === 'audio' ? OPUS : VP8], encodings: [{ ssrc: m.ssrc! }], rtcp: { cname: 'a' } },
      keyFrameRequestDelay: KEY_FRAME_REQUEST_DELAY_MS,
    }),
  );
  const answer = sfuSdp(
    transport,
    offer.media.map((m) => ({ kind: m.kind, mid: m.mid, direction: 'recvonly', codecs: [m.kind === 'audio' ? OPUS : VP8] })),
    'passive',
  );
  await a.pc.setRemoteDescription({ type: 'answer', sdp: answer });
  return { transport, producers, ssrcs: offer.media.map((m) => m.ssrc!) };
}

/** Consumes `producers` for B on a new transport: the SFU offers, B answers. */
async function subscribe(router: ReturnType<Sfu['createRouter']>, server: WebRtcServer, b: ReturnType<typeof subscriber>, producers: Producer[]) {
  const transport = router.createWebRtcTransport({ webRtcServer: server });
  const consumers: Consumer[] = producers.map((p) => transport.consume({ producerId: p.id }));
  const offer = sfuSdp(
    transport,
    consumers.map((c) => ({ kind: c.kind, mid: c.rtpParameters.mid!, direction: 'sendonly', codecs: c.rtpParameters.codecs, rtpParameters: c.rtpParameters })),
    'actpass',
  );
  await b.pc.setRemoteDescription({ type: 'offer', sdp: offer });
  await b.pc.setLocalDescription(await b.pc.createAnswer());
  await transport.connect({ dtlsParameters: readClientSdp(b.pc.localDescription!.sdp).dtlsParameters });
  return { transport, consumers };
}

/** An ICE connectivity check (RFC 8445 §7.2.2): a STUN Binding request with USERNAME and MESSAGE-INTEGRITY (RFC 8489 §14.5). */
function bindingRequest(username: string, password: string): Buffer {
  const user = Buffer.from(username);
  const userAttr = Buffer.alloc(4 + ((user.length + 3) & ~3));
  userAttr.writeUInt16BE(0x0006, 0);
  userAttr.writeUInt16BE(user.length, 2);
  user.copy(userAttr, 4);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(0x0001, 0);
  header.writeUInt16BE(userAttr.length + 24, 2);
  header.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(header, 8);
  const integrity = Buffer.alloc(24);
  integrity.writeUInt16BE(0x0008, 0);
  integrity.writeUInt16BE(20, 2);
  createHmac('sha1', password).update(header).update(userAttr).digest().copy(integrity, 4);
  return Buffer.concat([header, userAttr, integrity]);
}

/** True when every packet after the first `skip` follows the one before it by exactly one. */
function continuous(packets: { seq: number }[], skip: number): boolean {
  const tail = packets.slice(skip);
  return tail.length > 1 && tail.every((p, i) => i === 0 || ((p.seq - tail[i - 1]!.seq) & 0xffff) === 1);
}

/** On both packet I/O and SRTP implementations MEDIA_NATIVE can select (issue 12): dgram + TypeScript, and the addon. */
describe.each(['off', 'on'] as const)('MEDIA_NATIVE=%s', (mode) => {
  beforeAll(() => {
    expect(selectPacketIo(mode)).toBe(mode === 'on' ? 'native' : 'dgram');
  });
  afterAll(() => {
    selectPacketIo('off');
  });

  describe('SFU with werift peers', () => {
    it('forwards audio and video from A to B in B\'s own sequence space, throttles key frame requests, answers NACKs, drops replays, and frees everything on close', async () => {
      const server = await sfu.createWebRtcServer({ listenInfos: [{ ip: '127.0.0.1', port: 0 }] });
      const router = sfu.createRouter();
      const a = await publisher();
      const b = subscriber();
      try {
        const published = await publish(router, server, a);
        const [audioProducer, videoProducer] = published.producers as [Producer, Producer];
        expect(await eventually(() => published.transport.dtlsState === 'connected', READY_MS)).toBe(true);
        expect(published.transport.iceState).toBe('completed');
        expect(await eventually(() => videoProducer.getStats().packetsReceived > 5 && audioProducer.getStats().packetsReceived > 5, READY_MS)).toBe(true);

        const startedMs = performance.now();
        const subscribed = await subscribe(router, server, b, published.producers);
        const [audioConsumer, videoConsumer] = subscribed.consumers as [Consumer, Consumer];
        expect(sfu.liveCounts()).toEqual({ routers: 1, transports: 2, producers: 2, consumers: 2, webRtcServers: 1 });
        expect(await eventually(() => subscribed.transport.dtlsState === 'connected', READY_MS)).toBe(true);

        // B receives both tracks, under the consumers' SSRCs, with no gap in its own sequence space.
        expect(await eventually(() => b.received.audio.length > 60 && b.received.video.length > 40, READY_MS)).toBe(true);
        expect(new Set(b.received.audio.map((p) => p.ssrc))).toEqual(new Set([audioConsumer.rtpParameters.encodings[0]!.ssrc]));
        expect(new Set(b.received.video.map((p) => p.ssrc))).toEqual(new Set([videoConsumer.rtpParameters.encodings[0]!.ssrc]));
        expect(audioConsumer.rtpParameters.encodings[0]!.ssrc).not.toBe(published.ssrcs[0]);
        // The first few may be lost while B's DTLS finishes after ours; after that, nothing is.
        expect(continuous(b.received.audio, 10)).toBe(true);
        expect(continuous(b.received.video, 10)).toBe(true);

        // RTCP: A's sender reports reach B in B's timestamp space; A gets our receiver reports on its streams.
        expect(await eventually(() => b.senderReports.audio.length > 0 && b.senderReports.video.length > 0, READY_MS)).toBe(true);
        for (const kind of ['audio', 'video'] as const) {
          const sr = b.senderReports[kind][0]!;
          const consumer = kind === 'audio' ? audioConsumer : videoConsumer;
          expect(sr.ssrc).toBe(consumer.rtpParameters.encodings[0]!.ssrc);
          // Its RTP time is near the timestamps B receives (a wrong mapping would be anywhere in 2^32).
          const last = b.received[kind][b.received[kind].length - 1]!.timestamp;
          const clockRate = kind === 'audio' ? OPUS.clockRate : VP8.clockRate;
          expect(Math.abs((sr.senderInfo.rtpTimestamp - last) | 0)).toBeLessThan(clockRate * 30);
        }
        expect(await eventually(() => a.reportedOn.has(published.ssrcs[1]!), READY_MS)).toBe(true);

        // PLIs: the new consumer asked for a key frame; then B asks ten times at once.
        const bVideoSsrc = videoConsumer.rtpParameters.encodings[0]!.ssrc!;
        const dtlsB = b.pc.dtlsTransports[0]!;
        const pli = () => new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc: 4242, mediaSsrc: bVideoSsrc }) });
        await dtlsB.sendRtcp(Array.from({ length: 10 }, pli));
        expect(await eventually(() => videoProducer.getStats().keyFrameRequestsReceived >= 11, READY_MS)).toBe(true);
        expect(videoConsumer.getStats().keyFrameRequestsReceived).toBe(10);
        // A FIR (RFC 5104 §4.3.1: the media source in the FCI) counts the same; werift sends our bytes over its SRTCP.
        await dtlsB.sendRtcp([{ serialize: () => buildFir(4242, bVideoSsrc, 1) } as never]);
        expect(await eventually(() => videoConsumer.getStats().keyFrameRequestsReceived === 11, READY_MS)).toBe(true);
        // A request inside the window is sent when it ends: A hears of B's burst.
        expect(await eventually(() => videoProducer.getStats().keyFrameRequestsSent >= 2 && a.plis() >= 2, READY_MS)).toBe(true);
        const elapsedMs = performance.now() - startedMs;
        const { keyFrameRequestsSent, keyFrameRequestsReceived } = videoProducer.getStats();
        // At most one per window (+1 pending at its end), however long the machine took.
        expect(keyFrameRequestsSent).toBeLessThanOrEqual(2 + Math.floor(elapsedMs / KEY_FRAME_REQUEST_DELAY_MS));
        expect(keyFrameRequestsSent).toBeLessThan(keyFrameRequestsReceived);
        expect(await eventually(() => a.plis() === videoProducer.getStats().keyFrameRequestsSent, READY_MS)).toBe(true);
        expect(audioProducer.getStats().keyFrameRequestsSent).toBe(0);

        // NACK: B asks again for a video packet it had; the SFU sends it from its cache.
        const asked = b.received.video[b.received.video.length - 3]!.seq;
        const countOf = (seq: number) => b.received.video.filter((p) => p.seq === seq).length;
        // (werift also NACKs by itself if loopback ever loses a packet: the checks count from here.)
        const nackStats = videoConsumer.getStats();
        const nack = new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 4242, mediaSourceSsrc: bVideoSsrc, lost: [asked] }) });
        await dtlsB.sendRtcp([nack]);
        expect(await eventually(() => countOf(asked) >= 2, READY_MS)).toBe(true);
        expect(videoConsumer.getStats().retransmittedPackets).toBeGreaterThan(nackStats.retransmittedPackets);
        // A NACK for a packet never sent on this consumer is a miss, not a wrong packet.
        await dtlsB.sendRtcp([new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 4242, mediaSourceSsrc: bVideoSsrc, lost: [(asked + 30000) & 0xffff] }) })]);
        expect(await eventually(() => videoConsumer.getStats().nackMisses > nackStats.nackMisses, READY_MS)).toBe(true);

        // Replay: an SRTP packet from A, captured as it arrived, delivered again from A's address.
        const socket = server.socketsForTesting[0]!;
        let captured: { packet: Buffer; rinfo: RemoteInfo } | null = null;
        const tap = (msg: Buffer, rinfo: RemoteInfo) => {
          // RTP (not RTCP: payload types 72–76 with the marker bit) of A's audio stream.
          if (captured === null && msg[0]! >> 6 === 2 && (msg[1]! & 0x7f) === OPUS.payloadType && msg.readUInt32BE(8) === published.ssrcs[0]) captured = { packet: Buffer.from(msg), rinfo };
        };
        socket.prependListener('message', tap);
        expect(await eventually(() => captured !== null, READY_MS)).toBe(true);
        socket.off('message', tap);
        const before = published.transport.getStats();
        const receivedBefore = audioProducer.getStats().packetsReceived;
        const { packet, rinfo } = captured!;
        socket.emit('message', Buffer.from(packet), rinfo);
        expect(published.transport.getStats().replayedPackets).toBe(before.replayedPackets + 1);
        // A forged packet (a sequence number not seen yet, the old tag) fails authentication.
        const forged = Buffer.from(packet);
        forged.writeUInt16BE((forged.readUInt16BE(2) + 20000) & 0xffff, 2);
        socket.emit('message', forged, rinfo);
        expect(published.transport.getStats().authFailures).toBe(before.authFailures + 1);
        // Neither reached the producer (only A's real packets may have arrived meanwhile, each once).
        expect(audioProducer.getStats().packetsReceived - receivedBefore).toBeLessThanOrEqual(published.transport.getStats().rtpPacketsReceived - before.rtpPacketsReceived);

        // Closing the router closes everything under it, with the events saying why.
        const closed: string[] = [];
        published.transport.on('routerclose', () => closed.push('transport'));
        videoProducer.on('transportclose', () => closed.push('producer'));
        // The consumer hears of whichever closes first: its producer (A's transport) or its own transport.
        videoConsumer.on('transportclose', () => closed.push('consumer'));
        videoConsumer.on('producerclose', () => closed.push('consumer'));
        router.close();
        expect(closed.sort()).toEqual(['consumer', 'producer', 'transport']);
        expect([router.closed, published.transport.closed, subscribed.transport.closed, videoProducer.closed, audioConsumer.closed]).toEqual([true, true, true, true, true]);
        expect(sfu.liveCounts()).toEqual({ routers: 0, transports: 0, producers: 0, consumers: 0, webRtcServers: 1 });
        expect(server.transportCount).toBe(0);
      } finally {
        await a.close();
        await b.pc.close();
        router.close();
      }
      // The port set's UDP ports are released with it.
      const port = server.ports[0]!;
      server.close();
      expect(sfu.liveCounts().webRtcServers).toBe(0);
      const probe = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        probe.once('error', reject);
        probe.bind(port, '127.0.0.1', () => resolve());
      });
      probe.close();
    }, 90_000);

    it('refuses a client whose DTLS certificate is not the one its SDP announced: no keys, no media', async () => {
      const server = await sfu.createWebRtcServer({ listenInfos: [{ ip: '127.0.0.1', port: 0 }] });
      const router = sfu.createRouter();
      const a = await publisher();
      try {
        const transport = router.createWebRtcTransport({ webRtcServer: server });
        await a.pc.setLocalDescription(await a.pc.createOffer());
        const offer = readClientSdp(a.pc.localDescription!.sdp);
        const forged = { ...offer.dtlsParameters, fingerprints: [{ algorithm: 'sha-256' as const, value: Array.from({ length: 32 }, () => 'AB').join(':') }] };
        await transport.connect({ dtlsParameters: forged });
        const producer = transport.produce({ kind: 'audio', rtpParameters: { mid: offer.media[0]!.mid, codecs: [OPUS], encodings: [{ ssrc: offer.media[0]!.ssrc! }] } });
        const answer = sfuSdp(transport, offer.media.map((m) => ({ kind: m.kind, mid: m.mid, direction: 'recvonly', codecs: [m.kind === 'audio' ? OPUS : VP8] })), 'passive');
        await a.pc.setRemoteDescription({ type: 'answer', sdp: answer });
        expect(await eventually(() => transport.dtlsState === 'failed', READY_MS)).toBe(true);
        expect(transport.iceState).not.toBe('new');
        expect(producer.getStats().packetsReceived).toBe(0);
        expect(transport.getStats().rtpPacketsReceived).toBe(0);
      } finally {
        await a.close();
        router.close();
        server.close();
      }
    }, 60_000);

    it('takes the DTLS client role when the client is passive, once ICE has a path for its ClientHello', async () => {
      const server = await sfu.createWebRtcServer({ listenInfos: [{ ip: '127.0.0.1', port: 0 }] });
      const router = sfu.createRouter();
      const a = await publisher();
      try {
        const transport = router.createWebRtcTransport({ webRtcServer: server });
        await a.pc.setLocalDescription(await a.pc.createOffer());
        const offer = readClientSdp(a.pc.localDescription!.sdp);
        // Our answer says a=setup:active, so the client is the DTLS server.
        await transport.connect({ dtlsParameters: { ...offer.dtlsParameters, role: 'server' } });
        const producers = offer.media.map((m) => transport.produce({ kind: m.kind, rtpParameters: { mid: m.mid, codecs: [m.kind === 'audio' ? OPUS : VP8], encodings: [{ ssrc: m.ssrc! }] } }));
        expect(transport.dtlsState).toBe('new');
        const answer = sfuSdp(transport, offer.media.map((m) => ({ kind: m.kind, mid: m.mid, direction: 'recvonly', codecs: [m.kind === 'audio' ? OPUS : VP8] })), 'active');
        await a.pc.setRemoteDescription({ type: 'answer', sdp: answer });
        expect(await eventually(() => transport.dtlsState === 'connected', READY_MS)).toBe(true);
        expect(await eventually(() => producers.every((p) => p.getStats().packetsReceived > 5), READY_MS)).toBe(true);
      } finally {
        await a.close();
        router.close();
        server.close();
      }
    }, 60_000);

    it('restarts ICE: new credentials, media goes on with the same DTLS keys, the old credentials are no longer answered', async () => {
      const server = await sfu.createWebRtcServer({ listenInfos: [{ ip: '127.0.0.1', port: 0 }] });
      const router = sfu.createRouter();
      const a = await publisher();
      try {
        const { transport, producers } = await publish(router, server, a);
        expect(await eventually(() => transport.dtlsState === 'connected' && producers.every((p) => p.getStats().packetsReceived > 5), READY_MS)).toBe(true);
        const old = transport.iceParameters;
        const fresh = transport.restartIce();
        expect(fresh.usernameFragment).not.toBe(old.usernameFragment);
        expect(fresh.password).not.toBe(old.password);
        expect(server.transportCount).toBe(1);
        const checksBefore = transport.getStats().iceChecksAnswered;

        await a.pc.setLocalDescription(await a.pc.createOffer({ iceRestart: true }));
        const offer = readClientSdp(a.pc.localDescription!.sdp);
        const answer = sfuSdp(transport, offer.media.map((m) => ({ kind: m.kind, mid: m.mid, direction: 'recvonly', codecs: [m.kind === 'audio' ? OPUS : VP8] })), 'passive');
        expect(answer).toContain(`a=ice-ufrag:${fresh.usernameFragment}`);
        await a.pc.setRemoteDescription({ type: 'answer', sdp: answer });

        // werift 0.25 skips its connectivity checks after a restart while DTLS is still up (RTCPeerConnection.connect()
        // returns early), so its ICE agent is started by hand, as a browser's would start by itself.
        void a.pc.dtlsTransports[0]!.iceTransport.start().catch(() => undefined);
        // The client checks with the new credentials, which only the restarted transport answers.
        expect(await eventually(() => transport.getStats().iceChecksAnswered > checksBefore, READY_MS)).toBe(true);
        const received = producers[1]!.getStats().packetsReceived;
        expect(await eventually(() => producers[1]!.getStats().packetsReceived > received + 20, READY_MS)).toBe(true);
        expect(transport.dtlsState).toBe('connected');

        // A check with the old credentials (valid integrity) finds nobody; the same with the new ones is answered.
        const probe = dgram.createSocket('udp4');
        const answers: Buffer[] = [];
        probe.on('message', (msg) => answers.push(msg));
        await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', () => resolve()));
        try {
          const unknownBefore = server.unknownPackets;
          probe.send(bindingRequest(`${old.usernameFragment}:probe`, old.password), server.ports[0]!, '127.0.0.1');
          expect(await eventually(() => server.unknownPackets === unknownBefore + 1, READY_MS)).toBe(true);
          probe.send(bindingRequest(`${fresh.usernameFragment}:probe`, fresh.password), server.ports[0]!, '127.0.0.1');
          expect(await eventually(() => answers.length === 1, READY_MS)).toBe(true);
          expect(answers[0]!.readUInt16BE(0)).toBe(0x0101);
        } finally {
          probe.close();
        }
      } finally {
        await a.close();
        router.close();
        server.close();
      }
    }, 60_000);
  });
});
