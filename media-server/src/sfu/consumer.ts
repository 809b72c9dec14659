/**
 * An outbound track (mediasoup's Consumer): a producer's RTP forwarded to
 * another client's transport. The consumer has its own SSRC and its own
 * sequence and timestamp space (media/endpoint/outbound-stream.ts): when the
 * source changes (a simulcast layer switch, later) the sequence goes on by
 * one and the timestamp by the time that passed, so the receiver sees one
 * continuous stream. A NACK from its client is answered from the producer's
 * packet cache, over RTX when RTX is negotiated (RFC 4588), else as a plain
 * retransmission; a PLI or FIR goes to the producer, which throttles them.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { OutboundStream } from '../media/endpoint/outbound-stream.ts';
import { buildSdesCname, buildSenderReport } from '../media/rtp/rtcp-packet.ts';
import { readUint32, rtpPayloadOffset, setRtpPayloadType, setRtpSequenceNumber, setRtpSsrc, setRtpTimestamp } from '../media/rtp/rtp-header.ts';
import { EnhancedEventEmitter } from './enhanced-event-emitter.ts';
import type { Producer } from './producer.ts';
import { isRtxCodec, rtxCodecFor, type MediaKind, type RtpParameters } from './rtp-parameters.ts';

/** @internal Given by the transport. */
export interface ConsumerOptions {
  mid: string;
  paused: boolean;
}

export type ConsumerEvents = {
  transportclose: [];
  producerclose: [];
  '@close': [];
};

export interface ConsumerStats {
  packetsSent: number;
  /** Packets sent again in answer to a NACK. */
  retransmittedPackets: number;
  nacksReceived: number;
  /** NACKed packets no longer in the cache (or never forwarded here). */
  nackMisses: number;
  keyFrameRequestsReceived: number;
}

/** @internal What a consumer needs from its transport. */
export interface ConsumerTransportLink {
  /** Whether the transport can send now (ICE has a pair and DTLS gave the SRTP keys). */
  ready(): boolean;
  /** A buffer to build one packet in (room for the SRTP tag), valid until sendRtp(). */
  sendBuffer(): Buffer;
  /** Protects `buf[0, length)` in place and sends it. */
  sendRtp(buf: Buffer, length: number): void;
  sendRtcp(packet: Buffer): void;
}

/**
 * Sequence numbers answered per NACK message: a NACK costs its sender a few
 * bytes per 17 packets, so an unbounded answer would let a client make the
 * SFU send far more than it asked with (a reflection).
 */
const MAX_RETRANSMISSIONS_PER_NACK = 64;

/** Forwarded packets remembered for mapping a NACK back to the producer's packet. */
const SEQUENCE_MAP_SIZE = 1024;

export class Consumer extends EnhancedEventEmitter<ConsumerEvents> {
  readonly id = randomUUID();
  readonly producerId: string;
  readonly kind: MediaKind;
  /** What to announce to the client (its m-line): the producer's codecs, our SSRCs. */
  readonly rtpParameters: RtpParameters;
  readonly ssrcs: readonly number[];
  #closed = false;
  #paused: boolean;
  readonly #producer: Producer;
  readonly #link: ConsumerTransportLink;
  readonly #outbound: OutboundStream;
  readonly #rtx: { payloadType: number; ssrc: number } | null;
  #rtxSeq = randomInt(0, 0x8000);
  /** The producer's SSRCs, one per encoding (simulcast layers, lowest first), and the one forwarded now. */
  readonly #layerSsrcs: readonly number[];
  #currentSsrc: number;
  /** Indexed by our sequence number modulo the size: which producer packet it was. */
  readonly #mapOutSeq = new Int32Array(SEQUENCE_MAP_SIZE).fill(-1);
  readonly #mapInSeq = new Uint16Array(SEQUENCE_MAP_SIZE);
  readonly #mapInSsrc = new Float64Array(SEQUENCE_MAP_SIZE);
  readonly #mapOutTs = new Float64Array(SEQUENCE_MAP_SIZE);
  readonly #stats = { packetsSent: 0, retransmittedPackets: 0, nacksReceived: 0, nackMisses: 0, keyFrameRequestsReceived: 0 };

  /** @internal Created by WebRtcTransport.consume(). */
  constructor(producer: Producer, { mid, paused }: ConsumerOptions, link: ConsumerTransportLink) {
    super();
    this.#producer = producer;
    this.#link = link;
    this.#paused = paused;
    this.producerId = producer.id;
    this.kind = producer.kind;
    const media = producer.rtpParameters.codecs.filter((c) => !isRtxCodec(c));
    const rtxCodec = rtxCodecFor(producer.rtpParameters.codecs, media[0]!.payloadType);
    const ssrc = randomInt(1, 0xffff_ffff);
    this.#rtx = rtxCodec ? { payloadType: rtxCodec.payloadType, ssrc: randomInt(1, 0xffff_ffff) } : null;
    this.rtpParameters = {
      mid,
      codecs: structuredClone(rtxCodec ? [...media, rtxCodec] : media),
      encodings: [{ ssrc, ...(this.#rtx ? { rtx: { ssrc: this.#rtx.ssrc } } : {}) }],
      rtcp: { cname: producer.rtpParameters.rtcp?.cname ?? `${producer.id.slice(0, 8)}@carillon-sfu` },
    };
    this.ssrcs = this.#rtx ? [ssrc, this.#rtx.ssrc] : [ssrc];
    this.#outbound = new OutboundStream(media[0]!.clockRate, 'rewrite', ssrc);
    this.#layerSsrcs = producer.rtpParameters.encodings.flatMap((e) => (e.ssrc === undefined ? [] : [e.ssrc]));
    // Until the bandwidth estimation chooses (issue 17, simulcast), the highest layer.
    this.#currentSsrc = this.#layerSsrcs[this.#layerSsrcs.length - 1]!;
    producer.addConsumer(this);
    // A new receiver can decode nothing until the next key frame.
    if (!paused) producer.requestKeyFrame();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get paused(): boolean {
    return this.#paused;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (this.#closed || !this.#paused) return;
    this.#paused = false;
    this.#producer.requestKeyFrame();
  }

  /** Which encoding of the producer (0 = lowest) is forwarded now. */
  get currentLayer(): number {
    return this.#layerSsrcs.indexOf(this.#currentSsrc);
  }

  /**
   * Forwards another encoding of the producer from now on. The receiver sees
   * no break: the consumer's sequence goes on by one and its timestamp by the
   * time that passed (the source change re-anchors the stream); a key frame
   * is asked for, since the new layer cannot be decoded before one.
   */
  setPreferredLayer(spatialLayer: number): void {
    const ssrc = this.#layerSsrcs[spatialLayer];
    if (ssrc === undefined) throw new TypeError(`no spatial layer ${spatialLayer} (the producer has ${this.#layerSsrcs.length})`);
    if (this.#closed || ssrc === this.#currentSsrc) return;
    this.#currentSsrc = ssrc;
    this.#producer.requestKeyFrame();
  }

  getStats(): ConsumerStats {
    return { ...this.#stats };
  }

  /** @internal A packet of the producer (plain RTP, not to be modified). */
  forward(packet: Buffer, length: number, payloadOffset: number, sourceSsrc: number, nowMs: number): void {
    // Nothing is rewritten before the transport can send: the client's stream starts with the first packet it gets.
    if (this.#closed || this.#paused || sourceSsrc !== this.#currentSsrc || !this.#link.ready()) return;
    const buf = this.#link.sendBuffer();
    packet.copy(buf, 0, 0, length);
    const inSeq = (packet[2]! << 8) | packet[3]!;
    this.#outbound.rewrite(buf, sourceSsrc, sourceSsrc, inSeq, readUint32(packet, 4), 1, nowMs);
    // The stream marks a new source on audio (RFC 3550 §5.1, a talkspurt); in video the marker ends a frame and must stay the sender's.
    if (this.kind === 'video') buf[1] = (buf[1]! & 0x7f) | (packet[1]! & 0x80);
    const outSeq = (buf[2]! << 8) | buf[3]!;
    const slot = outSeq % SEQUENCE_MAP_SIZE;
    this.#mapOutSeq[slot] = outSeq;
    this.#mapInSeq[slot] = inSeq;
    this.#mapInSsrc[slot] = sourceSsrc;
    this.#mapOutTs[slot] = readUint32(buf, 4);
    // An SR's octet count is payload octets (RFC 3550 §6.4.1).
    this.#outbound.counted(length - payloadOffset);
    this.#stats.packetsSent++;
    this.#link.sendRtp(buf, length);
  }

  /** @internal Its client lost these packets (our sequence numbers). */
  receiveNack(lost: readonly number[]): void {
    if (this.#closed || !this.#link.ready()) return;
    this.#stats.nacksReceived++;
    // Each packet once, however often the message names it (NACKs are rare: the Set costs nothing that matters).
    const asked = [...new Set(lost)];
    for (const seq of asked.length > MAX_RETRANSMISSIONS_PER_NACK ? asked.slice(0, MAX_RETRANSMISSIONS_PER_NACK) : asked) {
      const slot = seq % SEQUENCE_MAP_SIZE;
      const cached = this.#mapOutSeq[slot] === seq ? this.#producer.cachedPacket(this.#mapInSsrc[slot]!, this.#mapInSeq[slot]!) : null;
      if (!cached) {
        this.#stats.nackMisses++;
        continue;
      }
      this.#retransmit(cached, seq, this.#mapOutTs[slot]!);
    }
  }

  #retransmit(cached: Buffer, seq: number, timestamp: number): void {
    const payloadOffset = rtpPayloadOffset(cached, cached.length);
    if (payloadOffset < 0) return;
    const buf = this.#link.sendBuffer();
    let length: number;
    if (this.#rtx) {
      // RFC 4588 §4: the RTX packet has its own SSRC and sequence; its payload starts with the original sequence number.
      const padding = cached[0]! & 0x20 ? cached[cached.length - 1]! : 0;
      const payloadLength = cached.length - payloadOffset - padding;
      cached.copy(buf, 0, 0, payloadOffset);
      buf[0] = buf[0]! & ~0x20;
      setRtpPayloadType(buf, this.#rtx.payloadType);
      setRtpSequenceNumber(buf, this.#rtxSeq);
      this.#rtxSeq = (this.#rtxSeq + 1) & 0xffff;
      setRtpSsrc(buf, this.#rtx.ssrc);
      buf.writeUInt16BE(seq, payloadOffset);
      cached.copy(buf, payloadOffset + 2, payloadOffset, payloadOffset + payloadLength);
      length = payloadOffset + 2 + payloadLength;
    } else {
      cached.copy(buf, 0, 0, cached.length);
      setRtpSequenceNumber(buf, seq);
      setRtpSsrc(buf, this.#outbound.ssrc);
      length = cached.length;
    }
    setRtpTimestamp(buf, timestamp);
    this.#stats.retransmittedPackets++;
    this.#link.sendRtp(buf, length);
  }

  /**
   * @internal The publisher's SR for `ssrc`, sent on as ours: the same NTP
   * time, its RTP time mapped into our timestamp space, our own counts
   * (RFC 3550 §6.4.1; a translator's SR, RFC 3550 §7.2).
   */
  receiveSenderReport(ssrc: number, ntpMs: number, rtpTimestamp: number): void {
    if (this.#closed || this.#paused || !this.#link.ready() || ssrc !== this.#currentSsrc) return;
    const outbound = this.#outbound;
    if (outbound.packets === 0 || outbound.currentSource !== ssrc) return;
    const sr = buildSenderReport({
      ssrc: outbound.ssrc,
      ntpMs,
      rtpTimestamp: outbound.mapTimestamp(rtpTimestamp),
      packetCount: outbound.packets >>> 0,
      octetCount: outbound.bytes >>> 0,
    });
    this.#link.sendRtcp(Buffer.concat([sr, buildSdesCname(outbound.ssrc, this.rtpParameters.rtcp?.cname ?? 'carillon-sfu')]));
  }

  /** @internal Its client asked for a key frame (PLI or FIR). */
  receiveKeyFrameRequest(_kind: 'pli' | 'fir'): void {
    if (this.#closed) return;
    this.#stats.keyFrameRequestsReceived++;
    this.#producer.requestKeyFrame();
  }

  close(): void {
    if (this.#closed) return;
    this.#teardown();
    this.safeEmit('@close');
  }

  /** @internal */
  transportClosed(): void {
    if (this.#closed) return;
    this.#teardown();
    this.safeEmit('transportclose');
  }

  /** @internal Its producer closed: so does the consumer, and its transport forgets it. */
  producerClosed(): void {
    if (this.#closed) return;
    this.#teardown();
    this.safeEmit('producerclose');
    this.safeEmit('@close');
  }

  #teardown(): void {
    this.#closed = true;
    this.#producer.removeConsumer(this);
  }
}
