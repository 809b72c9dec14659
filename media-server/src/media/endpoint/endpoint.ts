/**
 * An endpoint inside a worker: one media stream to a peer. Its transport
 * (RTP and RTCP sockets, where media goes: from SDP, then latched to where
 * packets really come from; SRTP; ICE-lite and DTLS for a browser), its codec,
 * its taps (receive statistics, DTMF detection, what it feeds a recording,
 * generated media: prompts and DTMF), and its output: every packet it
 * receives goes to its sink, the container it is in (a two-party Bridge, or
 * a Room that mixes N). An endpoint does not need a peer (alone in a bridge
 * it still plays prompts and music), and it can move to another container of
 * its worker (`moveTo`) with its sockets, latching, keys and outbound stream,
 * so the far end notices nothing and no re-INVITE is needed.
 * The receive handler is the hot path: it works on the datagram Buffer dgram
 * hands over, in place, and allocates nothing.
 */
import type { RemoteInfo } from 'node:dgram';
import type { AudioCodec } from '../codecs/audio-codec.ts';
import { PCMA, PCMU } from '../codecs/g711-codec.ts';
import { OpusCodec } from '../codecs/opus-codec.ts';
import { Resampler } from '../codecs/resampler.ts';
import type { DtlsSession } from '../webrtc/dtls-session.ts';
import { loadDtls } from '../webrtc/dtls-loader.ts';
import { bindingSuccess, readBindingCheck, type IceCredentials } from '../webrtc/stun-binding.ts';
import { InbandDtmfDetector } from '../dtmf/inband-dtmf-detector.ts';
import { TelephoneEventReceiver } from '../dtmf/telephone-event-receiver.ts';
import { RtpPacketizer } from '../media-player/rtp-packetizer.ts';
import type { EncodedPrompt } from '../media-player/encoded-prompt.ts';
import { RECORDING_SAMPLE_RATE, type RecordingChannel } from '../recording/recording-channel.ts';
import { ntpMiddle32 } from '../rtp/ntp-time.ts';
import { parseRtcpCompound } from '../rtp/rtcp-packet.ts';
import { looksLikeRtcp, readUint32, rtpPayloadOffset, setRtpPayloadType, writeRtpHeader } from '../rtp/rtp-header.ts';
import { RtpStreamStats } from '../rtp/rtp-stream-stats.ts';
import { SrtpSession } from '../srtp/srtp-session.ts';
import type { LegCodecName, LegConfig, LegStats, LegUpdate, MediaDirection, MediaEvent, WebRtcLegSpec } from '../engine/control-messages.ts';
import { DtmfPlayout } from './dtmf-playout.ts';
import type { MediaClock } from '../engine/media-clock.ts';
import { DTMF_SOURCE, MIX_SOURCE, OutboundStream, PLAYER_SOURCE } from './outbound-stream.ts';
import type { PayloadStep } from '../bridge/payload-step.ts';
import { rewriteForwardedRtcp } from './rtcp-forwarding.ts';
import { LatchedEndpoint } from './latched-endpoint.ts';
import { buildOwnRtcpReport } from './own-rtcp-report.ts';
import { openUdpSocket, type PacketSocket } from './udp-socket.ts';

/** Where an endpoint's media goes, and what it needs from the container it is in. */
export interface EndpointSink {
  /** The container's id (a bridge or a room), named in the endpoint's events. */
  readonly bridgeId: string;
  readonly clock: MediaClock;
  relayRtp(from: Endpoint, packet: Buffer, payloadOffset: number, payloadLength: number, length: number, isEvent: boolean, nowMs: number): void;
  relayRtcp(from: Endpoint, packet: Buffer, length: number, nowMs: number): void;
  emit(event: MediaEvent): void;
  /** The process's DTLS certificate, for WebRTC legs. */
  readonly dtlsCertificate: { certPem: string; keyPem: string } | null;
}

/** A latched peer that falls silent this long may be replaced by a new source (NAT rebinding, re-INVITE). */
const RELATCH_AFTER_MS = 2000;
/** RTCP comes every few seconds (RFC 3550 §6.2), so its source is only replaced after a longer silence. */
const RTCP_RELATCH_AFTER_MS = 12_000;
const SEND_BUFFER_BYTES = 2048;
const MAX_DECODED_SAMPLES = 1920;

/** G.711 is stateless and shared; each Opus user gets its own encoder and decoder state. */
const CODECS: Record<LegCodecName, () => AudioCodec> = { PCMU: () => PCMU, PCMA: () => PCMA, OPUS: () => new OpusCodec() };

export function codecOf(name: LegCodecName): AudioCodec {
  const codec = CODECS[name];
  if (!codec) throw new RangeError(`unsupported codec ${JSON.stringify(name)} (supported: ${Object.keys(CODECS).join(', ')})`);
  return codec();
}

/** A WebRTC leg's ICE and DTLS state. */
interface WebRtcState {
  spec: WebRtcLegSpec;
  ice: IceCredentials;
  dtls: DtlsSession | null;
  /** Sources that passed an ICE check ("address port"): DTLS is taken from these only. */
  verified: Set<string>;
  /** The browser nominated the latched pair (USE-CANDIDATE); until then any checked pair may take it. */
  nominated: boolean;
  /** The DTLS endpoint is being set up (werift may still be loading). */
  opening: boolean;
}

export class Endpoint {
  /** The endpoint's id in its container (a bridge's legs are "a" and "b"). */
  legId: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  codec: AudioCodec;
  readonly stats: RtpStreamStats;
  readonly outbound: OutboundStream;
  private host: EndpointSink;
  private readonly rtpSocket: PacketSocket;
  private readonly rtcpSocket: PacketSocket;
  private readonly rtcpIntervalMs: number;
  private payloadType: number;
  private telephoneEventPayloadType: number;
  /** RFC 6464 ssrc-audio-level extension id from the peer's a=extmap (RFC 8285), or -1. */
  audioLevelExtensionId: number;
  private rtcpMux: boolean;
  private srtp: SrtpSession | null;
  private receiving = true;
  private sending = true;
  private cname: string;
  private webrtc: WebRtcState | null = null;
  private latching = true;
  /** Reported once: a relay failure repeats with every packet. */
  private relayFailed = false;
  /** Our side's SDP direction: anything but sendrecv is a hold (or a mute), where silence is expected. */
  private direction: MediaDirection = 'sendrecv';
  /**
   * When the peer last sent RTP or RTCP that parsed (performance.now()), or
   * when the endpoint opened or was renegotiated: the media timeout
   * (engine/media-timeout.ts) reads it. One number written per packet.
   */
  lastMediaMs = performance.now();

  private readonly rtpRemote = new LatchedEndpoint(RELATCH_AFTER_MS);
  private readonly rtcpRemote = new LatchedEndpoint(RTCP_RELATCH_AFTER_MS);

  private dropped = 0;
  private rtcpReceived = 0;
  private lastInSsrc = -1;
  private readonly dtmfReceiver: TelephoneEventReceiver;
  private inband: InbandDtmfDetector | null = null;
  private readonly decoded = new Int16Array(MAX_DECODED_SAMPLES);
  /** Where this leg's audio goes while the bridge records. */
  private recording: RecordingChannel | null = null;

  private readonly sendBuffer = Buffer.alloc(SEND_BUFFER_BYTES);
  private readonly rtcpSendBuffer = Buffer.alloc(SEND_BUFFER_BYTES);
  private player: { packetizer: RtpPacketizer; playbackId: number } | null = null;
  private dtmf: DtmfPlayout | null = null;
  private onClock = false;
  private lastRtcpSentMs = 0;
  private lastRtcpForwardedMs = Number.NEGATIVE_INFINITY;
  private closed = false;

  static async open(config: LegConfig, host: EndpointSink, rtcpIntervalMs: number): Promise<Endpoint> {
    const rtp = await openUdpSocket(config.bindAddress, config.rtpPort);
    let rtcp: PacketSocket;
    try {
      rtcp = await openUdpSocket(config.bindAddress, config.rtcpPort);
    } catch (err) {
      rtp.close();
      throw err;
    }
    return new Endpoint(config, host, rtp, rtcp, rtcpIntervalMs);
  }

  private constructor(config: LegConfig, host: EndpointSink, rtpSocket: PacketSocket, rtcpSocket: PacketSocket, rtcpIntervalMs: number) {
    this.legId = config.legId;
    this.rtpPort = config.rtpPort;
    this.rtcpPort = config.rtcpPort;
    this.host = host;
    this.rtpSocket = rtpSocket;
    this.rtcpSocket = rtcpSocket;
    this.rtcpIntervalMs = rtcpIntervalMs;
    this.codec = codecOf(config.codec.name);
    this.payloadType = config.codec.payloadType;
    this.telephoneEventPayloadType = config.telephoneEventPayloadType ?? -1;
    this.audioLevelExtensionId = config.audioLevelExtensionId ?? -1;
    this.rtcpMux = config.rtcpMux ?? false;
    this.srtp = config.srtp ? new SrtpSession(config.srtp) : null;
    if (config.webrtc) this.setWebRtc(config.webrtc);
    this.latching = config.latch ?? true;
    this.cname = config.cname ?? `${config.legId}@carillon`;
    this.stats = new RtpStreamStats(this.codec.clockRate);
    this.outbound = new OutboundStream(this.codec.clockRate, config.ssrcMode ?? 'rewrite', config.ssrc);
    this.dtmfReceiver = new TelephoneEventReceiver(this.codec.clockRate, (digit, durationMs) =>
      this.host.emit({ type: 'dtmf', bridgeId: this.host.bridgeId, legId: this.legId, digit, durationMs, source: 'rfc4733' }),
    );
    this.setDirection(config.direction ?? 'sendrecv');
    this.setInbandDtmf(config.inbandDtmf ?? false);
    this.setRemote(config.remote ?? null);
    rtpSocket.on('message', this.onRtpMessage);
    rtcpSocket.on('message', this.onRtcpMessage);
    // Send errors (ICMP unreachable surfaces as ECONNREFUSED on Linux) must not kill the worker.
    const onError = (err: Error) => this.host.emit({ type: 'leg-error', bridgeId: this.host.bridgeId, legId: this.legId, message: err.message });
    rtpSocket.on('error', onError);
    rtcpSocket.on('error', onError);
  }

  /** The container this endpoint's media goes to now. */
  get sink(): EndpointSink {
    return this.host;
  }

  /**
   * Moves to another container of the same worker under the id `legId`:
   * sockets, latching, keys and the outbound stream stay, so the peer sees
   * the same SSRC and sequence go on (the source change re-anchors it).
   */
  moveTo(sink: EndpointSink, legId: string): void {
    if (sink.clock !== this.host.clock) throw new Error(`endpoint ${this.legId} cannot move to ${sink.bridgeId}: another worker's container`);
    this.host = sink;
    this.legId = legId;
    this.recording = null;
    this.wideRecording = null;
    this.outbound.reanchor();
  }

  update(update: LegUpdate): void {
    if (update.webrtc === null && this.webrtc !== null) {
      // A phone takes the place of a browser (a transfer): back to plain RTP and latching.
      this.webrtc.dtls?.close();
      this.webrtc = null;
      this.srtp = null;
      this.rtcpMux = false;
    }
    if (update.codec) {
      this.codec = codecOf(update.codec.name);
      this.payloadType = update.codec.payloadType;
    }
    if (update.telephoneEventPayloadType !== undefined) this.telephoneEventPayloadType = update.telephoneEventPayloadType ?? -1;
    if (update.audioLevelExtensionId !== undefined) this.audioLevelExtensionId = update.audioLevelExtensionId ?? -1;
    if (update.rtcpMux !== undefined) this.rtcpMux = update.rtcpMux;
    if (update.srtp !== undefined) this.srtp = update.srtp ? new SrtpSession(update.srtp) : null;
    if (update.direction) this.setDirection(update.direction);
    if (update.inbandDtmf !== undefined) this.setInbandDtmf(update.inbandDtmf);
    if (update.cname) this.cname = update.cname;
    if (update.latch !== undefined) this.latching = update.latch;
    if (update.remote !== undefined) this.setRemote(update.remote);
    if (update.webrtc) this.setWebRtc(update.webrtc);
    if (update.ssrc !== undefined) this.outbound.ssrc = update.ssrc;
    // A renegotiation (re-INVITE, answer, resume) is a sign of life: the peer gets a full timeout to send again.
    this.lastMediaMs = performance.now();
  }

  /** Whether the peer may legitimately send nothing: a hold in either direction, or a mute. */
  get onHold(): boolean {
    return this.direction !== 'sendrecv';
  }

  /** false for the end of a pipe between two of our containers: only endpoints facing a peer can go silent on us. */
  get facesPeer(): boolean {
    return this.latching;
  }

  /**
   * A new WebRTC description. New ICE credentials are an ICE restart (the
   * browser moved networks): media keeps its path and keys until a check on
   * the new credentials moves it. A new fingerprint or role means a new DTLS
   * handshake, and no media until it completes.
   */
  private setWebRtc(spec: WebRtcLegSpec): void {
    this.rtcpMux = true;
    const previous = this.webrtc;
    const ice: IceCredentials = { localUfrag: spec.ice.localUfrag, localPwd: spec.ice.localPwd, remoteUfrag: spec.ice.remoteUfrag };
    const sameDtls = previous !== null && previous.spec.dtls.role === spec.dtls.role && previous.spec.dtls.remoteFingerprint === spec.dtls.remoteFingerprint;
    if (previous && sameDtls) {
      previous.spec = spec;
      previous.ice = ice;
      return;
    }
    previous?.dtls?.close();
    this.srtp = null;
    this.webrtc = { spec, ice, dtls: null, verified: new Set(), nominated: false, opening: false };
    // A DTLS server waits for the browser's ClientHello; a client starts once ICE has a path.
    if (spec.dtls.role === 'server') this.startDtls(this.webrtc);
  }

  private startDtls(state: WebRtcState): void {
    if (state.opening) return;
    state.opening = true;
    this.openDtls(state);
  }

  /** Starts the leg's DTLS endpoint once werift's DTLS is loaded (at once after the first time). */
  private openDtls(state: WebRtcState): void {
    const certificate = this.host.dtlsCertificate;
    if (!certificate) {
      this.host.emit({ type: 'leg-error', bridgeId: this.host.bridgeId, legId: this.legId, message: 'no DTLS certificate on this media worker' });
      return;
    }
    const spec = state.spec;
    void loadDtls().then(({ DtlsSession: Session }) => {
      // The leg may have closed, or moved to another handshake, while the module loaded.
      if (this.closed || this.webrtc !== state || state.dtls !== null) return;
      const session: DtlsSession = new Session({
        role: spec.dtls.role,
        certPem: certificate.certPem,
        keyPem: certificate.keyPem,
        remoteFingerprint: spec.dtls.remoteFingerprint,
        send: (packet) => {
          if (this.rtpRemote.address !== null && !this.closed) this.rtpSocket.send(packet, this.rtpRemote.port, this.rtpRemote.address);
        },
        onKeys: (keys) => {
          if (this.webrtc?.dtls !== session) return;
          this.srtp = new SrtpSession(keys);
          this.host.emit({ type: 'dtls-connected', bridgeId: this.host.bridgeId, legId: this.legId });
        },
        onError: (message) => this.host.emit({ type: 'leg-error', bridgeId: this.host.bridgeId, legId: this.legId, message }),
      });
      state.dtls = session;
    });
  }

  /** An ICE connectivity check: answered when it is for us, and it may move the media path. */
  private receiveStun(msg: Buffer, rinfo: RemoteInfo, webrtc: WebRtcState): void {
    const check = readBindingCheck(msg, webrtc.ice);
    if (!check) {
      this.dropped++;
      return;
    }
    this.rtpSocket.send(bindingSuccess(check, rinfo.address, rinfo.port, webrtc.ice.localPwd), rinfo.port, rinfo.address);
    const key = `${rinfo.address} ${rinfo.port}`;
    if (webrtc.verified.size > 16) webrtc.verified.clear();
    webrtc.verified.add(key);
    const now = performance.now();
    if (this.rtpRemote.isFrom(rinfo)) {
      this.rtpRemote.seen(now);
      if (check.useCandidate) webrtc.nominated = true;
    } else if (check.useCandidate || !webrtc.nominated) {
      webrtc.nominated = check.useCandidate;
      this.latchRtp(rinfo, now);
    }
    if (webrtc.dtls === null && webrtc.spec.dtls.role === 'client') this.startDtls(webrtc);
  }

  private setDirection(direction: MediaDirection): void {
    this.direction = direction;
    this.sending = direction === 'sendrecv' || direction === 'sendonly';
    this.receiving = direction === 'sendrecv' || direction === 'recvonly';
  }

  private setInbandDtmf(enabled: boolean): void {
    this.inband = enabled
      ? new InbandDtmfDetector((digit, durationMs) =>
          this.host.emit({ type: 'dtmf', bridgeId: this.host.bridgeId, legId: this.legId, digit, durationMs, source: 'inband' }),
        )
      : null;
  }

  /** A new remote from SDP: latching starts over, so the first packets decide again (unless latching is off). */
  private setRemote(remote: LegConfig['remote']): void {
    if (!this.latching && remote) {
      this.rtpRemote.fix(remote.address, remote.rtpPort);
      this.rtcpRemote.fix(remote.address, remote.rtcpPort ?? (this.rtcpMux ? remote.rtpPort : remote.rtpPort + 1));
      return;
    }
    this.rtpRemote.expect(remote?.address ?? null, remote?.rtpPort ?? 0);
    this.rtcpRemote.expect(remote?.address ?? null, remote ? (remote.rtcpPort ?? (this.rtcpMux ? remote.rtpPort : remote.rtpPort + 1)) : 0);
  }

  // ---- receive path ----

  private readonly onRtpMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const webrtc = this.webrtc;
    if (webrtc !== null) {
      // RFC 7983 demultiplexing: STUN 0–3, DTLS 20–63, RTP and RTCP 128–191.
      const first = msg[0]!;
      if (first < 4) {
        this.receiveStun(msg, rinfo, webrtc);
        return;
      }
      if (first >= 20 && first < 64) {
        if (webrtc.verified.has(`${rinfo.address} ${rinfo.port}`)) webrtc.dtls?.receive(msg);
        else this.dropped++;
        return;
      }
      // Media only from the ICE-selected path, and only once DTLS gave keys.
      if (this.srtp === null || !this.rtpRemote.isFrom(rinfo)) {
        this.dropped++;
        return;
      }
    }
    if (this.rtcpMux && looksLikeRtcp(msg, msg.length)) {
      this.receiveRtcp(msg, rinfo, true);
      return;
    }
    const now = performance.now();
    const fromRemote = this.rtpRemote.isFrom(rinfo);
    if (!fromRemote && !this.rtpRemote.mayLatch(rinfo, now)) {
      this.dropped++;
      return;
    }
    let length = msg.length;
    if (this.srtp) {
      length = this.srtp.rtpIn.unprotect(msg, length);
      if (length < 0) {
        this.dropped++;
        return;
      }
    }
    const payloadOffset = rtpPayloadOffset(msg, length);
    if (payloadOffset < 0) {
      this.dropped++;
      return;
    }
    const payloadType = msg[1]! & 0x7f;
    const isEvent = payloadType === this.telephoneEventPayloadType;
    if (!isEvent && payloadType !== this.payloadType) {
      this.dropped++;
      return;
    }
    let payloadLength = length - payloadOffset;
    if (msg[0]! & 0x20) {
      const padding = msg[length - 1]!;
      if (padding === 0 || padding > payloadLength) {
        this.dropped++;
        return;
      }
      payloadLength -= padding;
    }
    // Only a packet that parsed (and authenticated) may move the latch.
    if (fromRemote) this.rtpRemote.seen(now);
    else this.latchRtp(rinfo, now);
    this.lastMediaMs = now;
    const ssrc = readUint32(msg, 8);
    const seq = (msg[2]! << 8) | msg[3]!;
    const timestamp = readUint32(msg, 4);
    if (ssrc !== this.lastInSsrc) {
      this.lastInSsrc = ssrc;
      this.dtmfReceiver.reset();
    }
    // Telephone events go to the detector even when the sequence check refuses them: it has its own
    // rules for repeats, and a sender that rewinds its sequence must not lose the press that did it.
    if (isEvent) this.dtmfReceiver.receive(timestamp, msg, payloadOffset, payloadLength, now, (msg[1]! & 0x80) !== 0);
    if (!this.stats.receive.update(ssrc, seq, timestamp, now, payloadLength, !isEvent)) return;
    if (!isEvent && payloadLength <= MAX_DECODED_SAMPLES) {
      // The recording takes what the bridge takes: nothing from a muted leg.
      const recording = this.receiving ? this.recording : null;
      if (this.codec.sampleRate === RECORDING_SAMPLE_RATE) {
        if (this.inband !== null || recording !== null) {
          const n = this.codec.decode(msg, payloadOffset, payloadLength, this.decoded);
          if (this.inband !== null) this.inband.process(this.decoded, n);
          if (recording !== null) recording.write(ssrc, timestamp, this.decoded, n);
        }
      } else if (recording !== null) {
        this.recordWideband(recording, ssrc, timestamp, msg, payloadOffset, payloadLength);
      }
    }
    if (!this.receiving) return;
    try {
      this.host.relayRtp(this, msg, payloadOffset, payloadLength, length, isEvent, now);
    } catch (err) {
      // A packet a codec cannot take is dropped; it must not take the worker, and every call on it, down.
      this.dropped++;
      if (!this.relayFailed) {
        this.relayFailed = true;
        this.host.emit({ type: 'leg-error', bridgeId: this.host.bridgeId, legId: this.legId, message: `relay: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
  };

  private latchRtp(rinfo: RemoteInfo, nowMs: number): void {
    this.rtpRemote.latch(rinfo, nowMs);
    if (this.rtcpMux) this.rtcpRemote.latch(rinfo, nowMs);
    // Until RTCP itself arrives, assume it follows RTP the way RFC 3550 pairs them.
    else this.rtcpRemote.assume(rinfo.address, rinfo.port + 1);
    this.host.emit({ type: 'latched', bridgeId: this.host.bridgeId, legId: this.legId, channel: 'rtp', address: rinfo.address, port: rinfo.port });
  }

  private readonly onRtcpMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    this.receiveRtcp(msg, rinfo, false);
  };

  private receiveRtcp(msg: Buffer, rinfo: RemoteInfo, muxed: boolean): void {
    const now = performance.now();
    const remote = muxed ? this.rtpRemote : this.rtcpRemote;
    const fromRemote = remote.isFrom(rinfo);
    if (!fromRemote && !remote.mayLatch(rinfo, now)) {
      this.dropped++;
      return;
    }
    let length = msg.length;
    if (this.srtp) {
      length = this.srtp.rtcpIn.unprotect(msg, length);
      if (length < 0) {
        this.dropped++;
        return;
      }
    }
    const packets = parseRtcpCompound(msg, length);
    if (!packets) {
      this.dropped++;
      return;
    }
    if (fromRemote) {
      remote.seen(now);
    } else if (muxed) {
      this.latchRtp(rinfo, now);
    } else {
      this.rtcpRemote.latch(rinfo, now);
      this.host.emit({ type: 'latched', bridgeId: this.host.bridgeId, legId: this.legId, channel: 'rtcp', address: rinfo.address, port: rinfo.port });
    }
    this.lastMediaMs = now;
    this.rtcpReceived++;
    for (const p of packets) {
      if (p.type === 'sr' && p.ssrc === this.stats.receive.ssrc) this.stats.receive.senderReportReceived(p.ntpMs, now);
      if (p.type === 'sr' || p.type === 'rr') {
        for (const block of p.reports) {
          if (block.ssrc === this.outbound.ssrc) this.stats.rtt.reportReceived(block.lastSenderReport, block.delaySinceLastSenderReport, now);
        }
      }
    }
    this.host.relayRtcp(this, msg, length, now);
  }

  // ---- send path ----

  /** Whether relayed media may go out now: generated media (prompt, DTMF) takes the leg over. */
  private get relayOpen(): boolean {
    return (this.webrtc === null || this.srtp !== null) && this.sending && this.rtpRemote.address !== null && this.player === null && this.dtmf === null;
  }

  /**
   * Sends a packet received on the other leg. It is modified in place when
   * possible (payload type, codec, header fields); `step` converts between
   * the two legs' codecs.
   */
  sendRelayed(packet: Buffer, payloadOffset: number, payloadLength: number, length: number, isEvent: boolean, step: PayloadStep | null, nowMs: number): void {
    if (!this.relayOpen) return;
    const ssrc = readUint32(packet, 8);
    const seq = (packet[2]! << 8) | packet[3]!;
    const timestamp = readUint32(packet, 4);
    let buf = packet;
    let ratio = 1;
    let shift = 0;
    if (isEvent) {
      // No telephone-event on this side: the digit was reported, and the peer cannot take it.
      if (this.telephoneEventPayloadType < 0) return;
      setRtpPayloadType(buf, this.telephoneEventPayloadType);
    } else {
      if (step) {
        ratio = step.timestampRatio;
        if (step.inPlace) {
          step.apply(packet, payloadOffset, payloadLength, packet, payloadOffset);
        } else {
          buf = this.takeSendBuffer();
          packet.copy(buf, 0, 0, payloadOffset);
          buf[0] = buf[0]! & ~0x20;
          payloadLength = step.apply(packet, payloadOffset, payloadLength, buf, payloadOffset);
          // A codec with fixed frame sizes may hold a packet's audio back for the next one.
          if (payloadLength === 0) return;
          shift = step.timestampShift;
          length = payloadOffset + payloadLength;
        }
      }
      setRtpPayloadType(buf, this.payloadType);
    }
    this.outbound.rewrite(buf, ssrc, ssrc, seq, (timestamp + shift) >>> 0, ratio, nowMs);
    this.transmitRtp(buf, length, payloadLength);
  }

  private transmitRtp(buf: Buffer, length: number, payloadLength: number): void {
    // A WebRTC leg sends nothing in the clear, before or after its handshake.
    if (this.webrtc !== null && this.srtp === null) return;
    if (this.srtp) {
      const out = buf === this.sendBuffer ? buf : this.takeSendBuffer();
      length = this.srtp.rtpOut.protect(buf, length, out);
      if (length < 0) return;
      buf = out;
    }
    this.outbound.counted(payloadLength);
    this.rtpSocket.send(buf, 0, length, this.rtpRemote.port, this.rtpRemote.address!);
  }

  /** The leg's reusable buffer, unless a queued send still holds it. */
  private takeSendBuffer(): Buffer {
    return this.rtpSocket.getSendQueueCount() === 0 ? this.sendBuffer : Buffer.alloc(SEND_BUFFER_BYTES);
  }

  /** Sends an RTCP compound the other leg received, rewritten for this leg. */
  sendForwardedRtcp(packet: Buffer, length: number, source: Endpoint, nowMs: number): void {
    if (this.rtcpRemote.address === null) return;
    const carriesSource = this.outbound.currentSource === source.stats.receive.ssrc;
    const { ok, srNtpMs } = rewriteForwardedRtcp(packet, length, {
      senderSsrc: this.outbound.ssrc,
      reportedSsrc: source.outbound.ssrc,
      reportedSsrcReplacement: this.stats.receive.ssrc,
      mapTimestamp: carriesSource ? (ts) => this.outbound.mapTimestamp(ts) : null,
    });
    if (!ok) return;
    if (!Number.isNaN(srNtpMs)) this.stats.rtt.senderReportSent(ntpMiddle32(srNtpMs), nowMs);
    this.lastRtcpForwardedMs = nowMs;
    this.transmitRtcp(packet, length);
  }

  private transmitRtcp(buf: Buffer, length: number): void {
    const socket = this.rtcpMux ? this.rtpSocket : this.rtcpSocket;
    if (this.webrtc !== null && this.srtp === null) return;
    if (this.srtp) {
      const out = socket.getSendQueueCount() === 0 ? this.rtcpSendBuffer : Buffer.alloc(SEND_BUFFER_BYTES);
      length = this.srtp.rtcpOut.protect(buf, length, out);
      if (length < 0) return;
      buf = out;
    }
    socket.send(buf, 0, length, this.rtcpRemote.port, this.rtcpRemote.address!);
  }

  /**
   * Periodic work (about once a second): DTMF whose end packets were all
   * lost, and our own RTCP report when nothing was forwarded to this leg for
   * an interval, so RTT and loss are measured even without the peer's RTCP.
   */
  housekeeping(nowMs: number): void {
    this.dtmfReceiver.flush(nowMs);
    if (this.rtcpRemote.address === null || nowMs - this.lastRtcpSentMs < this.rtcpIntervalMs) return;
    if (nowMs - this.lastRtcpForwardedMs < this.rtcpIntervalMs) return;
    if (this.outbound.packets === 0 && this.stats.packets === 0) return;
    this.lastRtcpSentMs = nowMs;
    const report = buildOwnRtcpReport(this.stats, this.outbound, this.cname, nowMs);
    this.transmitRtcp(report, report.length);
  }

  /**
   * A wideband leg (Opus, 48 kHz) is recorded at the recording's 8 kHz with a
   * decoder of its own: the relay's transcoder keeps its own decoder state.
   */
  private wideRecording: { codec: AudioCodec; resampler: Resampler; wide: Int16Array; ratio: number } | null = null;

  private recordWideband(recording: RecordingChannel, ssrc: number, timestamp: number, msg: Buffer, payloadOffset: number, payloadLength: number): void {
    let path = this.wideRecording;
    if (path === null || path.codec.name !== this.codec.name) {
      const codec = codecOf(this.codec.name.toUpperCase() as LegCodecName);
      path = this.wideRecording = { codec, resampler: new Resampler(codec.sampleRate, RECORDING_SAMPLE_RATE), wide: new Int16Array(codec.sampleRate / 50 * 3), ratio: codec.clockRate / RECORDING_SAMPLE_RATE };
    }
    const n = path.codec.decode(msg, payloadOffset, payloadLength, path.wide);
    const m = path.resampler.process(path.wide, n, this.decoded);
    recording.write(ssrc, Math.floor(timestamp / path.ratio) >>> 0, this.decoded, m);
  }

  /** Sends this leg's decoded audio to a recording channel from now on, or to none. */
  record(channel: RecordingChannel | null): void {
    this.recording = channel;
    this.wideRecording = null;
  }

  // ---- generated media ----

  play(prompt: EncodedPrompt, playbackId: number, loop: boolean): void {
    // The playback it replaces has ended: whoever waits on it (a ring-back under a greeting) is told.
    this.stopPlayback();
    this.player = { packetizer: new RtpPacketizer(prompt, { payloadType: this.payloadType, ssrc: 0, loop }), playbackId };
    this.outbound.reanchor();
    this.attachClock();
  }

  /** Returns whether a prompt was playing. */
  stopPlayback(): boolean {
    const player = this.player;
    if (!player) return false;
    this.player = null;
    this.detachClockIfIdle();
    this.host.emit({ type: 'playback-ended', bridgeId: this.host.bridgeId, legId: this.legId, playbackId: player.playbackId });
    return true;
  }

  sendDtmf(digits: string, durationMs: number): void {
    const mode =
      this.telephoneEventPayloadType >= 0
        ? ({ kind: 'rfc4733', payloadType: this.telephoneEventPayloadType } as const)
        : ({ kind: 'inband', codec: this.codec, payloadType: this.payloadType } as const);
    this.dtmf = new DtmfPlayout(digits, durationMs, mode);
    this.attachClock();
  }

  private attachClock(): void {
    if (!this.onClock) {
      this.onClock = true;
      this.host.clock.add(this.onFrame);
    }
  }

  private detachClockIfIdle(): void {
    if (this.onClock && !this.player && !this.dtmf) {
      this.onClock = false;
      this.host.clock.delete(this.onFrame);
    }
  }

  private readonly onFrame = (): void => {
    const now = performance.now();
    if (this.dtmf) {
      const buf = this.takeSendBuffer();
      const n = this.dtmf.nextFrame(buf);
      if (n < 0) {
        const digits = this.dtmf.digits;
        this.dtmf = null;
        this.host.emit({ type: 'dtmf-sent', bridgeId: this.host.bridgeId, legId: this.legId, digits });
        this.outbound.reanchor();
        this.detachClockIfIdle();
        return;
      }
      if (this.dtmf.startsEvent) this.outbound.reanchor();
      if (n > 0 && this.sending && this.rtpRemote.address !== null) this.sendGenerated(buf, n, DTMF_SOURCE, now);
      return;
    }
    if (this.player) {
      const buf = this.takeSendBuffer();
      const n = this.player.packetizer.nextPacket(buf);
      if (n === 0) {
        this.stopPlayback();
        this.outbound.reanchor();
        return;
      }
      if (this.sending && this.rtpRemote.address !== null) this.sendGenerated(buf, n, PLAYER_SOURCE, now);
    }
  };

  /**
   * Sends one frame of audio a room mixed for this endpoint (8 kHz PCM,
   * encoded here in the endpoint's codec). Like relayed media, it gives way
   * to a prompt or DTMF being played, and to mute or hold.
   */
  sendMixed(pcm: Int16Array, samples: number, nowMs: number): void {
    if (!this.relayOpen) return;
    const buf = this.takeSendBuffer();
    const n = this.codec.encode(pcm, samples, buf, 12);
    if (n === 0) return;
    this.sendMixPacket(buf, n, samples * (this.codec.clockRate / this.codec.sampleRate), nowMs);
  }

  /**
   * Sends a payload a room already encoded in this endpoint's codec, shared
   * with every listener of that codec: only the RTP header is this
   * endpoint's (its payload type, sequence, timestamp and SSRC), and the
   * SRTP protection when it has keys. `duration` is in RTP clock units.
   */
  sendEncoded(payload: Uint8Array, length: number, duration: number, nowMs: number): void {
    if (!this.relayOpen || length === 0) return;
    const buf = this.takeSendBuffer();
    buf.set(length === payload.length ? payload : payload.subarray(0, length), 12);
    this.sendMixPacket(buf, length, duration, nowMs);
  }

  private sendMixPacket(buf: Buffer, payloadLength: number, duration: number, nowMs: number): void {
    writeRtpHeader(buf, { marker: false, payloadType: this.payloadType, sequenceNumber: this.mixSequence, timestamp: this.mixTimestamp, ssrc: 0 });
    this.mixSequence = (this.mixSequence + 1) & 0xffff;
    this.mixTimestamp = (this.mixTimestamp + duration) >>> 0;
    this.sendGenerated(buf, 12 + payloadLength, MIX_SOURCE, nowMs);
  }

  private mixSequence = 0;
  private mixTimestamp = 0;

  private sendGenerated(buf: Buffer, length: number, source: number, nowMs: number): void {
    const seq = (buf[2]! << 8) | buf[3]!;
    this.outbound.rewrite(buf, source, 0, seq, readUint32(buf, 4), 1, nowMs);
    this.transmitRtp(buf, length, length - 12);
  }

  // ---- reading and closing ----

  snapshot(): LegStats {
    return {
      legId: this.legId,
      received: this.stats.snapshot(),
      sent: { packets: this.outbound.packets, bytes: this.outbound.bytes },
      remote:
        this.rtpRemote.address === null
          ? null
          : { address: this.rtpRemote.address, rtpPort: this.rtpRemote.port, rtcpPort: this.rtcpRemote.port },
      latched: this.rtpRemote.latched,
      dropped: this.dropped,
      rtcpReceived: this.rtcpReceived,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.player = null;
    this.dtmf = null;
    this.recording = null;
    this.detachClockIfIdle();
    this.webrtc?.dtls?.close();
    this.rtpSocket.close();
    this.rtcpSocket.close();
  }
}
