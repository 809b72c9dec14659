import type { Socket } from 'socket.io-client';
import type { MeetingConsumerInfo, MeetingLiveEvent, MeetingPeer, MeetingRequest, MeetingTransportInfo } from '@carillon/contracts/meeting-control';
import { readAnswerDtls, readSendOffer, receiveOffer, sendAnswer, type OfferedConsumer } from './sfu-sdp.ts';

/**
 * A browser's part in a meeting (issue 17), on the SFU through the app's socket.io signalling: it
 * joins with the join token, sends its camera and microphone on a send transport (one
 * RTCPeerConnection: the browser offers, the SFU answers), and receives every other peer's tracks
 * on a receive transport (a second RTCPeerConnection: the SFU offers, renegotiated as consumers
 * come and go). Each remote peer's audio and video arrive as one MediaStream.
 */

type Codecs = Parameters<typeof readSendOffer>[1];
type Reply<T> = ({ ok: true } & T) | { error: string; reason?: string };

export interface RemotePeer {
  peerId: string;
  displayName: string;
  stream: MediaStream;
}

export class MeetingError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

export class MeetingClient {
  readonly #socket: Socket;
  readonly #onPeers: (peers: RemotePeer[]) => void;
  #peerId = '';
  #codecs: Codecs = [];
  #sendPc: RTCPeerConnection | null = null;
  #recvPc: RTCPeerConnection | null = null;
  #recvTransport: MeetingTransportInfo | null = null;
  #recvConnected = false;
  #offerVersion = 1;
  readonly #consumers: OfferedConsumer[] = [];
  readonly #peers = new Map<string, RemotePeer>();
  /** Renegotiations and consumes one after another: an offer must not overtake the one before. Held until the receive transport exists. */
  #queue: Promise<unknown>;
  #receiveReady: () => void = () => undefined;
  /** Producers consumed or being consumed: one announced both in the join's answer and by an event is consumed once. */
  readonly #consumed = new Set<string>();
  #closed = false;

  constructor(socket: Socket, onPeers: (peers: RemotePeer[]) => void) {
    this.#socket = socket;
    this.#onPeers = onPeers;
    this.#queue = new Promise<void>((resolve) => (this.#receiveReady = resolve));
    socket.on('meeting', (e: MeetingLiveEvent) => this.#onEvent(e));
  }

  #ask<T>(event: 'meeting:join' | 'meeting:signal', payload: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      this.#socket.timeout(15_000).emit(event, payload, (err: Error | null, reply: Reply<T>) => {
        if (err) reject(new MeetingError('unavailable'));
        else if ('error' in reply) reject(new MeetingError(reply.error));
        else resolve(reply);
      });
    });
  }

  #signal<T>(request: MeetingRequest): Promise<T> {
    return this.#ask<T>('meeting:signal', request);
  }

  async join(joinToken: string, local: MediaStream): Promise<void> {
    const joined = await this.#ask<{ peerId: string; peers: MeetingPeer[]; codecs: Codecs }>('meeting:join', { joinToken });
    this.#peerId = joined.peerId;
    this.#codecs = joined.codecs;
    await this.#publish(local);
    const { transport } = await this.#signal<{ transport: MeetingTransportInfo }>({ type: 'create-transport', direction: 'recv' });
    this.#recvTransport = transport;
    this.#recvPc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.#recvPc.ontrack = (e) => this.#onTrack(e);
    for (const peer of joined.peers) {
      this.#peer(peer.peerId, peer.displayName);
      for (const p of peer.producers) this.#enqueue(() => this.#consume(p.producerId));
    }
    this.#receiveReady();
    await this.#queue;
  }

  async #publish(local: MediaStream): Promise<void> {
    const { transport } = await this.#signal<{ transport: MeetingTransportInfo }>({ type: 'create-transport', direction: 'send' });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.#sendPc = pc;
    for (const track of local.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [local] });
    if (!local.getTracks().length) return;
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const read = readSendOffer(offer.sdp!, this.#codecs);
    await this.#signal({ type: 'connect-transport', transportId: transport.id, dtlsParameters: read.dtlsParameters });
    for (const track of read.tracks) await this.#signal({ type: 'produce', transportId: transport.id, kind: track.kind, rtpParameters: track.rtpParameters });
    await pc.setRemoteDescription({ type: 'answer', sdp: sendAnswer(transport, read.tracks) });
  }

  #enqueue(step: () => Promise<void>): void {
    this.#queue = this.#queue.then(step).catch((err: unknown) => console.warn('meeting: a step failed', err));
  }

  #peer(peerId: string, displayName: string): RemotePeer {
    let peer = this.#peers.get(peerId);
    if (!peer) {
      peer = { peerId, displayName, stream: new MediaStream() };
      this.#peers.set(peerId, peer);
      this.#changed();
    }
    return peer;
  }

  #changed(): void {
    this.#onPeers([...this.#peers.values()]);
  }

  async #consume(producerId: string): Promise<void> {
    if (this.#closed || !this.#recvTransport || this.#consumed.has(producerId)) return;
    this.#consumed.add(producerId);
    const { consumer } = await this.#signal<{ consumer: MeetingConsumerInfo }>({ type: 'consume', transportId: this.#recvTransport.id, producerId });
    this.#consumers.push({ consumer, closed: false });
    await this.#renegotiate();
  }

  async #renegotiate(): Promise<void> {
    const pc = this.#recvPc;
    const transport = this.#recvTransport;
    if (this.#closed || !pc || !transport || !this.#consumers.length) return;
    await pc.setRemoteDescription({ type: 'offer', sdp: receiveOffer(transport, this.#consumers, ++this.#offerVersion) });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (!this.#recvConnected) {
      this.#recvConnected = true;
      await this.#signal({ type: 'connect-transport', transportId: transport.id, dtlsParameters: readAnswerDtls(answer.sdp!) });
    }
  }

  #onTrack(e: RTCTrackEvent): void {
    const entry = this.#consumers.find((c) => c.consumer.rtpParameters.mid === e.transceiver.mid);
    if (!entry) return;
    const peer = this.#peers.get(entry.consumer.peerId);
    if (!peer) return;
    peer.stream.addTrack(e.track);
    this.#changed();
  }

  #onEvent(e: MeetingLiveEvent): void {
    if (this.#closed) return;
    switch (e.type) {
      case 'peer-joined':
        if (e.peer.peerId !== this.#peerId) this.#peer(e.peer.peerId, e.peer.displayName);
        break;
      case 'new-producer':
        if (e.peerId === this.#peerId) return;
        this.#enqueue(() => this.#consume(e.producerId));
        break;
      case 'producer-closed':
        this.#closeConsumers((c) => c.producerId === e.producerId);
        break;
      case 'peer-left': {
        const peer = this.#peers.get(e.peerId);
        if (!peer) return;
        this.#peers.delete(e.peerId);
        for (const track of peer.stream.getTracks()) track.stop();
        this.#changed();
        this.#closeConsumers((c) => c.peerId === e.peerId);
        break;
      }
    }
  }

  #closeConsumers(which: (c: MeetingConsumerInfo) => boolean): void {
    let any = false;
    for (const c of this.#consumers) {
      if (!c.closed && which(c.consumer)) {
        c.closed = true;
        any = true;
      }
    }
    if (any) this.#enqueue(() => this.#renegotiate());
  }

  async leave(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#signal({ type: 'leave' }).catch(() => undefined);
    this.#sendPc?.close();
    this.#recvPc?.close();
    for (const peer of this.#peers.values()) for (const track of peer.stream.getTracks()) track.stop();
    this.#peers.clear();
    this.#changed();
  }
}
