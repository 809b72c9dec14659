/**
 * A WebRTC transport of the SFU (mediasoup's WebRtcTransport): one client's
 * bundle of tracks, over ICE-lite (RFC 8445 §2.5: we answer checks, the
 * client nominates) on the router's shared port set, DTLS-SRTP (RFC 5763,
 * RFC 5764: werift's handshake, media/webrtc/dtls-session.ts, keys exported
 * to our lean SRTP), and rtcp-mux. It owns the producers (tracks the client
 * sends) and consumers (tracks it receives) created on it.
 * Receive path: SRTP unprotect (authentication and the replay window of
 * RFC 3711 §3.3.2: a replayed or forged packet is dropped and counted),
 * then the producer named by the SSRC. RTCP: PLI/FIR and NACK from the
 * client go to the consumer whose SSRC they name.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { DtlsSession } from '../media/webrtc/dtls-session.ts';
import { loadDtls } from '../media/webrtc/dtls-loader.ts';
import { bindingSuccess, readBindingCheck, type IceCredentials } from '../media/webrtc/stun-binding.ts';
import { buildReceiverReport, buildSdesCname, parseRtcpCompound } from '../media/rtp/rtcp-packet.ts';
import { looksLikeRtcp, rtpPayloadOffset, readUint32 } from '../media/rtp/rtp-header.ts';
import { SrtpSession } from '../media/srtp/srtp-session.ts';
import { Consumer, type ConsumerOptions } from './consumer.ts';
import { EnhancedEventEmitter } from './enhanced-event-emitter.ts';
import { InvalidStateError } from './errors.ts';
import { Producer, type ProducerOptions } from './producer.ts';
import { readRtcpFeedback } from './rtcp-feedback.ts';
import type { IceCandidate, IceTuple, WebRtcServer, WebRtcServerUser } from './web-rtc-server.ts';

export interface IceParameters {
  usernameFragment: string;
  password: string;
  iceLite: true;
}

export interface DtlsFingerprint {
  algorithm: 'sha-256';
  /** "AB:CD:…" */
  value: string;
}

export interface DtlsParameters {
  /** Our role for the local side; for the remote side, the client's ('client' when it said a=setup:active). */
  role?: 'auto' | 'client' | 'server';
  fingerprints: DtlsFingerprint[];
}

export type IceState = 'new' | 'connected' | 'completed' | 'closed';
export type DtlsState = 'new' | 'connecting' | 'connected' | 'failed' | 'closed';

export type WebRtcTransportEvents = {
  icestatechange: [IceState];
  dtlsstatechange: [DtlsState];
  routerclose: [];
  webrtcserverclose: [];
  '@close': [];
  '@newproducer': [Producer];
  '@producerclose': [Producer];
};

export interface WebRtcTransportStats {
  iceState: IceState;
  dtlsState: DtlsState;
  /** Connectivity checks answered (RFC 8445 §7.3): the client's checks and consent refreshes. */
  iceChecksAnswered: number;
  rtpPacketsReceived: number;
  rtcpPacketsReceived: number;
  /** SRTP/SRTCP packets refused: seen before or older than the replay window (RFC 3711 §3.3.2). */
  replayedPackets: number;
  /** SRTP/SRTCP packets whose authentication tag did not match. */
  authFailures: number;
  /** Decrypted RTP of no known producer, or not RTP at all. */
  droppedPackets: number;
  rtpPacketsSent: number;
  rtcpPacketsSent: number;
}

/** What the transport needs from its router. */
export interface TransportRouterLink {
  getProducer(id: string): Producer | undefined;
  dtlsCertificate: { certPem: string; keyPem: string; fingerprint: string };
}

/** DTLS records that arrive before connect() (the client may start first): a few are kept for the handshake. */
const MAX_EARLY_DTLS = 8;
const SEND_BUFFER_BYTES = 2048;

export class WebRtcTransport extends EnhancedEventEmitter<WebRtcTransportEvents> {
  readonly id = randomUUID();
  #iceParameters: IceParameters;
  readonly iceCandidates: readonly IceCandidate[];
  readonly dtlsParameters: DtlsParameters;
  /** The SSRC our own RTCP feedback (PLI, FIR) is sent from. */
  readonly rtcpSsrc = randomInt(1, 0xffff_ffff);
  #closed = false;
  #iceState: IceState = 'new';
  #dtlsState: DtlsState = 'new';
  readonly #server: WebRtcServer;
  readonly #router: TransportRouterLink;
  #ice: IceCredentials;
  #tuple: IceTuple | null = null;
  #nominated = false;
  #dtls: DtlsSession | null = null;
  #connecting = false;
  #earlyDtls: Buffer[] = [];
  #srtp: SrtpSession | null = null;
  readonly #producers = new Map<string, Producer>();
  readonly #consumers = new Map<string, Consumer>();
  /** Producers by each SSRC they send (media and RTX); consumers by their media SSRC. */
  readonly #producersBySsrc = new Map<number, Producer>();
  readonly #consumersBySsrc = new Map<number, Consumer>();
  #nextMid = 0;
  readonly #sendBuffer = Buffer.alloc(SEND_BUFFER_BYTES);
  readonly #rtcpBuffer = Buffer.alloc(SEND_BUFFER_BYTES);
  readonly #counters = { iceChecksAnswered: 0, rtpPacketsReceived: 0, rtcpPacketsReceived: 0, droppedPackets: 0, rtpPacketsSent: 0, rtcpPacketsSent: 0 };
  #serverUser: WebRtcServerUser;

  /** @internal Created by Router.createWebRtcTransport(). */
  constructor(server: WebRtcServer, router: TransportRouterLink) {
    super();
    this.#server = server;
    this.#router = router;
    this.iceCandidates = server.iceCandidates;
    const [algorithm, value] = router.dtlsCertificate.fingerprint.split(' ') as ['sha-256', string];
    this.dtlsParameters = { role: 'auto', fingerprints: [{ algorithm, value }] };
    [this.#iceParameters, this.#ice, this.#serverUser] = this.#newIceCredentials();
    server.register(this.#serverUser);
  }

  /** A fresh ufrag and password (RFC 8445 §5.3: at least 24 and 128 bits of randomness), and how the port set reaches us by the ufrag. */
  #newIceCredentials(): [IceParameters, IceCredentials, WebRtcServerUser] {
    const usernameFragment = randomBytes(12).toString('hex');
    const password = randomBytes(16).toString('hex');
    return [
      { usernameFragment, password, iceLite: true },
      { localUfrag: usernameFragment, localPwd: password, remoteUfrag: null },
      {
        usernameFragment,
        receiveStun: (packet, tuple) => this.#receiveStun(packet, tuple),
        receivePacket: (packet, tuple) => this.#receivePacket(packet, tuple),
        webRtcServerClosed: () => this.#webRtcServerClosed(),
      },
    ];
  }

  /** Our ICE ufrag and password, for the client's SDP; new after restartIce(). */
  get iceParameters(): IceParameters {
    return this.#iceParameters;
  }

  /**
   * ICE restart (RFC 8445 §2.4), when the client changed networks: new
   * credentials, to be sent in the client's next offer/answer. Media keeps
   * its path and DTLS keys until a check with the new credentials arrives
   * (from wherever the client is now) and moves it; checks with the old
   * credentials are no longer answered.
   */
  restartIce(): IceParameters {
    if (this.#closed) throw new InvalidStateError('WebRtcTransport closed');
    const previous = this.#serverUser;
    const [parameters, credentials, user] = this.#newIceCredentials();
    this.#server.register(user);
    this.#server.moveTuples(previous, user);
    this.#server.unregister(previous);
    this.#iceParameters = parameters;
    this.#ice = credentials;
    this.#serverUser = user;
    // The client nominates again on the new credentials.
    this.#nominated = false;
    return parameters;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get iceState(): IceState {
    return this.#iceState;
  }

  get dtlsState(): DtlsState {
    return this.#dtlsState;
  }

  get producerCount(): number {
    return this.#producers.size;
  }

  get consumerCount(): number {
    return this.#consumers.size;
  }

  /**
   * The client's DTLS parameters (from its SDP: a=fingerprint, a=setup).
   * A client that is active (a=setup:active, role 'client') makes us the
   * DTLS server; a passive one makes us the client. 'auto' (actpass): we
   * take the server role, the client's answer then says active.
   */
  async connect({ dtlsParameters }: { dtlsParameters: DtlsParameters }): Promise<void> {
    if (this.#closed) throw new InvalidStateError('WebRtcTransport closed');
    if (this.#connecting) throw new InvalidStateError('connect() already called');
    const fingerprint = dtlsParameters?.fingerprints?.find((f) => f.algorithm === 'sha-256');
    if (!fingerprint || !/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/.test(fingerprint.value)) throw new TypeError('dtlsParameters needs a sha-256 fingerprint');
    const role = dtlsParameters.role === 'server' ? 'client' : 'server';
    this.#connecting = true;
    const { DtlsSession: Session } = await loadDtls();
    if (this.#closed) return;
    // A DTLS server waits for the ClientHello; as the client we start once ICE has a path to send it on.
    const open = () => this.#openDtls(Session, role, fingerprint.value);
    if (role === 'server' || this.#tuple !== null) open();
    else this.#openDtlsOnIce = open;
  }

  /** Set while we are to be the DTLS client and no ICE check has arrived yet. */
  #openDtlsOnIce: (() => void) | null = null;

  #openDtls(Session: typeof DtlsSession, role: 'client' | 'server', fingerprint: string): void {
    const session: DtlsSession = new Session({
      role,
      certPem: this.#router.dtlsCertificate.certPem,
      keyPem: this.#router.dtlsCertificate.keyPem,
      remoteFingerprint: `sha-256 ${fingerprint}`,
      send: (packet) => {
        if (this.#tuple && !this.#closed) this.#tuple.socket.send(packet, this.#tuple.port, this.#tuple.address);
      },
      onKeys: (keys) => {
        if (this.#dtls !== session || this.#closed) return;
        this.#srtp = new SrtpSession(keys);
        this.#setDtlsState('connected');
      },
      onError: () => {
        if (this.#dtls === session && this.#dtlsState !== 'connected') this.#setDtlsState('failed');
      },
    });
    this.#dtls = session;
    this.#setDtlsState('connecting');
    for (const record of this.#earlyDtls) session.receive(record);
    this.#earlyDtls = [];
  }

  /** A track the client sends on this transport. */
  produce(options: ProducerOptions): Producer {
    if (this.#closed) throw new InvalidStateError('WebRtcTransport closed');
    const producer = new Producer(options, {
      sendRtcp: (packet) => this.#sendRtcp(packet),
      rtcpSsrc: this.rtcpSsrc,
    });
    for (const ssrc of producer.ssrcs) {
      if (this.#producersBySsrc.has(ssrc)) {
        producer.close();
        throw new TypeError(`ssrc ${ssrc} is already produced on this transport`);
      }
    }
    for (const ssrc of producer.ssrcs) this.#producersBySsrc.set(ssrc, producer);
    this.#producers.set(producer.id, producer);
    producer.on('@close', () => {
      this.#producers.delete(producer.id);
      for (const ssrc of producer.ssrcs) this.#producersBySsrc.delete(ssrc);
      this.safeEmit('@producerclose', producer);
    });
    this.safeEmit('@newproducer', producer);
    return producer;
  }

  /** A track of this router's `producerId`, sent to the client on this transport. */
  consume({ producerId, paused = false }: { producerId: string; paused?: boolean }): Consumer {
    if (this.#closed) throw new InvalidStateError('WebRtcTransport closed');
    if (typeof producerId !== 'string') throw new TypeError('missing producerId');
    const producer = this.#router.getProducer(producerId);
    if (!producer) throw new Error(`Producer with id "${producerId}" not found`);
    const options: ConsumerOptions = { mid: String(this.#nextMid++), paused };
    const consumer = new Consumer(producer, options, {
      ready: () => this.#tuple !== null && this.#srtp !== null && !this.#closed,
      sendBuffer: () => this.#takeSendBuffer(),
      sendRtp: (buf, length) => this.#sendRtp(buf, length),
      sendRtcp: (packet) => this.#sendRtcp(packet),
    });
    this.#consumers.set(consumer.id, consumer);
    for (const ssrc of consumer.ssrcs) this.#consumersBySsrc.set(ssrc, consumer);
    consumer.on('@close', () => {
      this.#consumers.delete(consumer.id);
      for (const ssrc of consumer.ssrcs) this.#consumersBySsrc.delete(ssrc);
    });
    return consumer;
  }

  /**
   * @internal Periodic work (the SFU's RTCP interval): a receiver report to
   * the client on every stream it sends us (RFC 3550 §6.4.2), which its
   * sender uses for loss and round-trip time.
   */
  housekeeping(nowMs: number): void {
    if (this.#closed || this.#tuple === null || this.#srtp === null) return;
    const blocks = [...this.#producers.values()].flatMap((p) => p.takeReportBlocks(nowMs));
    // An RR holds at most 31 report blocks (its 5-bit count); more go in further RRs of the compound.
    const parts: Buffer[] = [];
    for (let i = 0; i < blocks.length; i += 31) parts.push(buildReceiverReport({ ssrc: this.rtcpSsrc, reports: blocks.slice(i, i + 31) }));
    if (parts.length === 0) return;
    parts.push(buildSdesCname(this.rtcpSsrc, 'carillon-sfu'));
    this.#sendRtcp(Buffer.concat(parts));
  }

  getStats(): WebRtcTransportStats {
    const srtp = this.#srtp;
    return {
      iceState: this.#iceState,
      dtlsState: this.#dtlsState,
      ...this.#counters,
      replayedPackets: srtp ? srtp.rtpIn.replayed + srtp.rtcpIn.replayed : 0,
      authFailures: srtp ? srtp.rtpIn.authFailures + srtp.rtcpIn.authFailures : 0,
    };
  }

  // ---- receive path ----

  #receiveStun(packet: Buffer, tuple: IceTuple): void {
    if (this.#closed) return;
    const check = readBindingCheck(packet, this.#ice);
    if (!check) {
      this.#counters.droppedPackets++;
      return;
    }
    tuple.socket.send(bindingSuccess(check, tuple.address, tuple.port, this.#ice.localPwd), tuple.port, tuple.address);
    this.#counters.iceChecksAnswered++;
    this.#server.bindTuple(this.#serverUser, tuple);
    // The client, a full agent, nominates a pair with USE-CANDIDATE (RFC 8445 §8.1.1); before that any checked pair serves.
    if (this.#tuple === null || (check.useCandidate && this.#tuple.key !== tuple.key) || (!this.#nominated && this.#tuple.key !== tuple.key)) {
      this.#tuple = tuple;
    }
    if (check.useCandidate) this.#nominated = true;
    this.#setIceState(this.#nominated ? 'completed' : 'connected');
    const openDtls = this.#openDtlsOnIce;
    this.#openDtlsOnIce = null;
    openDtls?.();
  }

  #receivePacket(packet: Buffer, _tuple: IceTuple): void {
    if (this.#closed) return;
    const first = packet[0]!;
    // RFC 7983 §7: 20–63 DTLS, 128–191 RTP/RTCP.
    if (first >= 20 && first <= 63) {
      if (this.#dtls) this.#dtls.receive(packet);
      else if (this.#earlyDtls.length < MAX_EARLY_DTLS) this.#earlyDtls.push(Buffer.from(packet));
      return;
    }
    const srtp = this.#srtp;
    if (first < 128 || first > 191 || srtp === null) {
      this.#counters.droppedPackets++;
      return;
    }
    if (looksLikeRtcp(packet, packet.length)) {
      const length = srtp.rtcpIn.unprotect(packet, packet.length);
      if (length >= 0) this.#receiveRtcp(packet, length);
      return;
    }
    const length = srtp.rtpIn.unprotect(packet, packet.length);
    if (length < 0) return;
    const payloadOffset = rtpPayloadOffset(packet, length);
    const producer = this.#producersBySsrc.get(readUint32(packet, 8));
    if (!producer || payloadOffset < 0) {
      this.#counters.droppedPackets++;
      return;
    }
    this.#counters.rtpPacketsReceived++;
    producer.receiveRtp(packet, length, payloadOffset, performance.now());
  }

  #receiveRtcp(packet: Buffer, length: number): void {
    this.#counters.rtcpPacketsReceived++;
    const feedback = readRtcpFeedback(packet, length);
    if (!feedback) return;
    const nowMs = performance.now();
    for (const p of parseRtcpCompound(packet, length) ?? []) {
      if (p.type === 'sr') this.#producersBySsrc.get(p.ssrc)?.receiveSenderReport(p.ssrc, p.ntpMs, p.rtpTimestamp, nowMs);
    }
    for (const f of feedback) {
      const consumer = this.#consumersBySsrc.get(f.mediaSsrc);
      if (!consumer) continue;
      if (f.type === 'nack') consumer.receiveNack(f.lost);
      else consumer.receiveKeyFrameRequest(f.type);
    }
  }

  // ---- send path ----

  /** The transport's reusable send buffer, unless a queued send still holds it. */
  #takeSendBuffer(): Buffer {
    const socket = this.#tuple?.socket;
    return !socket || socket.getSendQueueCount() === 0 ? this.#sendBuffer : Buffer.alloc(SEND_BUFFER_BYTES);
  }

  /** Protects in place (the buffer has room for the tag) and sends to the selected pair. */
  #sendRtp(buf: Buffer, length: number): void {
    const tuple = this.#tuple;
    const srtp = this.#srtp;
    if (this.#closed || tuple === null || srtp === null) return;
    const n = srtp.rtpOut.protect(buf, length, buf);
    if (n < 0) return;
    this.#counters.rtpPacketsSent++;
    tuple.socket.send(buf, 0, n, tuple.port, tuple.address);
  }

  #sendRtcp(packet: Buffer): void {
    const tuple = this.#tuple;
    const srtp = this.#srtp;
    if (this.#closed || tuple === null || srtp === null) return;
    const out = tuple.socket.getSendQueueCount() === 0 ? this.#rtcpBuffer : Buffer.alloc(SEND_BUFFER_BYTES);
    const n = srtp.rtcpOut.protect(packet, packet.length, out);
    if (n < 0) return;
    this.#counters.rtcpPacketsSent++;
    tuple.socket.send(out, 0, n, tuple.port, tuple.address);
  }

  #setIceState(state: IceState): void {
    if (state === this.#iceState) return;
    this.#iceState = state;
    this.safeEmit('icestatechange', state);
  }

  #setDtlsState(state: DtlsState): void {
    if (state === this.#dtlsState) return;
    this.#dtlsState = state;
    this.safeEmit('dtlsstatechange', state);
  }

  // ---- closing ----

  close(): void {
    if (this.#closed) return;
    this.#teardown();
    this.safeEmit('@close');
  }

  /** @internal The router closed: no '@close' back to it, a 'routerclose' for the application. */
  routerClosed(): void {
    if (this.#closed) return;
    this.#teardown();
    this.safeEmit('routerclose');
  }

  #webRtcServerClosed(): void {
    if (this.#closed) return;
    this.#teardown();
    this.safeEmit('webrtcserverclose');
    this.safeEmit('@close');
  }

  #teardown(): void {
    this.#closed = true;
    this.#server.unregister(this.#serverUser);
    this.#dtls?.close();
    this.#dtls = null;
    this.#openDtlsOnIce = null;
    this.#srtp = null;
    this.#tuple = null;
    this.#earlyDtls = [];
    this.#iceState = 'closed';
    this.#dtlsState = 'closed';
    for (const producer of [...this.#producers.values()]) {
      producer.transportClosed();
      this.safeEmit('@producerclose', producer);
    }
    for (const consumer of [...this.#consumers.values()]) consumer.transportClosed();
    this.#producers.clear();
    this.#consumers.clear();
    this.#producersBySsrc.clear();
    this.#consumersBySsrc.clear();
  }
}
