/**
 * An inbound track (mediasoup's Producer): what one client sends on its
 * transport, audio or video, with its RTP parameters (codecs, the SSRC of
 * each encoding and of its RTX stream, mid and rids). Every packet goes to
 * the producer's consumers; video packets are also kept in a small cache so
 * a consumer's NACK is answered without asking the client. Key frame
 * requests of all consumers reach the client throttled (at most one per
 * keyFrameRequestDelay), as a PLI, or a FIR when only that was negotiated.
 */
import { randomUUID } from 'node:crypto';
import type { ReportBlock } from '../media/rtp/rtcp-packet.ts';
import { readUint32, setRtpPayloadType, setRtpSequenceNumber, setRtpSsrc } from '../media/rtp/rtp-header.ts';
import { RtpReceiveStatistics } from '../media/rtp/rtp-receive-statistics.ts';
import type { Consumer } from './consumer.ts';
import { EnhancedEventEmitter } from './enhanced-event-emitter.ts';
import { KeyFrameRequestThrottle } from './key-frame-request-throttle.ts';
import { buildFir, buildPli } from './rtcp-feedback.ts';
import { RtpPacketCache } from './rtp-packet-cache.ts';
import { hasFeedback, isRtxCodec, validateRtpParameters, type MediaKind, type RtpParameters } from './rtp-parameters.ts';

export interface ProducerOptions {
  kind: MediaKind;
  rtpParameters: RtpParameters;
  /** Minimum time between two key frame requests sent to the client (ms); mediasoup's keyFrameRequestDelay. */
  keyFrameRequestDelay?: number;
  /** Packets kept for retransmission (video with NACK only). */
  packetCacheSize?: number;
  appData?: Record<string, unknown>;
}

export type ProducerEvents = {
  transportclose: [];
  '@close': [];
};

export interface ProducerStats {
  packetsReceived: number;
  bytesReceived: number;
  /** RTX packets received and restored to their original stream. */
  rtxPacketsReceived: number;
  /** Packets of a payload type the producer did not declare. */
  droppedPackets: number;
  keyFrameRequestsReceived: number;
  keyFrameRequestsSent: number;
}

/** @internal What a producer needs from its transport. */
export interface ProducerTransportLink {
  sendRtcp(packet: Buffer): void;
  rtcpSsrc: number;
}

export const DEFAULT_KEY_FRAME_REQUEST_DELAY_MS = 500;

export class Producer extends EnhancedEventEmitter<ProducerEvents> {
  readonly id = randomUUID();
  readonly kind: MediaKind;
  readonly rtpParameters: RtpParameters;
  readonly appData: Record<string, unknown>;
  /** Every SSRC this producer receives on: media and RTX. */
  readonly ssrcs: readonly number[];
  #closed = false;
  readonly #link: ProducerTransportLink;
  readonly #consumers = new Set<Consumer>();
  readonly #payloadTypes: Set<number>;
  /** RTX payload type → the media payload type it retransmits (RFC 4588 apt). */
  readonly #rtxApt = new Map<number, number>();
  /** RTX SSRC → media SSRC. */
  readonly #rtxSsrc = new Map<number, number>();
  readonly #cache: RtpPacketCache | null;
  readonly #throttle: KeyFrameRequestThrottle;
  #firSeqNr = 0;
  /** RFC 3550 receive statistics of each encoding, for our receiver reports to the client. */
  readonly #receiveStats = new Map<number, RtpReceiveStatistics>();
  readonly #stats = { packetsReceived: 0, bytesReceived: 0, rtxPacketsReceived: 0, droppedPackets: 0 };

  /** @internal Created by WebRtcTransport.produce(). */
  constructor({ kind, rtpParameters, keyFrameRequestDelay = DEFAULT_KEY_FRAME_REQUEST_DELAY_MS, packetCacheSize = 512, appData = {} }: ProducerOptions, link: ProducerTransportLink) {
    super();
    if (kind !== 'audio' && kind !== 'video') throw new TypeError(`invalid kind "${String(kind)}"`);
    if (!Number.isFinite(keyFrameRequestDelay) || keyFrameRequestDelay < 0) throw new TypeError('invalid keyFrameRequestDelay');
    if (typeof appData !== 'object' || appData === null) throw new TypeError('if given, appData must be an object');
    this.kind = kind;
    this.rtpParameters = validateRtpParameters(kind, rtpParameters);
    this.appData = appData;
    this.#link = link;
    const ssrcs: number[] = [];
    for (const e of this.rtpParameters.encodings) {
      if (e.ssrc !== undefined) ssrcs.push(e.ssrc);
      if (e.ssrc !== undefined && e.rtx) {
        ssrcs.push(e.rtx.ssrc);
        this.#rtxSsrc.set(e.rtx.ssrc, e.ssrc);
      }
    }
    if (ssrcs.length === 0) throw new TypeError('rid-only encodings (simulcast without SSRCs) are not supported yet: give each encoding an ssrc');
    this.ssrcs = ssrcs;
    this.#payloadTypes = new Set(this.rtpParameters.codecs.filter((c) => !isRtxCodec(c)).map((c) => c.payloadType));
    for (const c of this.rtpParameters.codecs) if (isRtxCodec(c)) this.#rtxApt.set(c.payloadType, Number(c.parameters!.apt));
    const media = this.rtpParameters.codecs[0]!;
    this.#cache = kind === 'video' && hasFeedback(media, 'nack') ? new RtpPacketCache(packetCacheSize) : null;
    this.#throttle = new KeyFrameRequestThrottle(keyFrameRequestDelay, () => this.#sendKeyFrameRequest());
    for (const e of this.rtpParameters.encodings) if (e.ssrc !== undefined) this.#receiveStats.set(e.ssrc, new RtpReceiveStatistics(media.clockRate));
  }

  get closed(): boolean {
    return this.#closed;
  }

  get consumerCount(): number {
    return this.#consumers.size;
  }

  getStats(): ProducerStats {
    return { ...this.#stats, keyFrameRequestsReceived: this.#throttle.requested, keyFrameRequestsSent: this.#throttle.sent };
  }

  /** @internal */
  addConsumer(consumer: Consumer): void {
    this.#consumers.add(consumer);
  }

  /** @internal */
  removeConsumer(consumer: Consumer): void {
    this.#consumers.delete(consumer);
  }

  /** @internal A cached plain packet of `ssrc`, for a retransmission. */
  cachedPacket(ssrc: number, seq: number): Buffer | null {
    return this.#cache?.get(ssrc, seq) ?? null;
  }

  /**
   * @internal A decrypted packet of this producer, `packet[0, length)`. It is
   * the transport's receive buffer: consumers copy what they send.
   */
  receiveRtp(packet: Buffer, length: number, payloadOffset: number, nowMs: number): void {
    if (this.#closed) return;
    let ssrc = readUint32(packet, 8);
    const payloadType = packet[1]! & 0x7f;
    const apt = this.#rtxApt.get(payloadType);
    if (apt !== undefined) {
      // RFC 4588 §4: the RTX payload starts with the original sequence number; restore the original packet.
      const mediaSsrc = this.#rtxSsrc.get(ssrc);
      if (mediaSsrc === undefined || length - payloadOffset < 2 || packet[0]! & 0x20) {
        this.#stats.droppedPackets++;
        return;
      }
      const osn = (packet[payloadOffset]! << 8) | packet[payloadOffset + 1]!;
      packet.copy(packet, payloadOffset, payloadOffset + 2, length);
      length -= 2;
      setRtpSequenceNumber(packet, osn);
      setRtpSsrc(packet, mediaSsrc);
      setRtpPayloadType(packet, apt);
      ssrc = mediaSsrc;
      this.#stats.rtxPacketsReceived++;
    } else if (this.#rtxSsrc.has(ssrc) || !this.#payloadTypes.has(payloadType)) {
      this.#stats.droppedPackets++;
      return;
    }
    this.#stats.packetsReceived++;
    this.#stats.bytesReceived += length;
    this.#receiveStats.get(ssrc)?.update(ssrc, (packet[2]! << 8) | packet[3]!, readUint32(packet, 4), nowMs, length - payloadOffset, true);
    this.#cache?.store(ssrc, (packet[2]! << 8) | packet[3]!, packet, length);
    for (const consumer of this.#consumers) consumer.forward(packet, length, payloadOffset, ssrc, nowMs);
  }

  /**
   * @internal The client's sender report for one of our SSRCs (RFC 3550
   * §6.4.1): kept for our receiver reports (LSR/DLSR), and passed to the
   * consumers, which send it on in their own timestamp space, so that every
   * receiver can line up this track with the client's other tracks (lip sync).
   */
  receiveSenderReport(ssrc: number, ntpMs: number, rtpTimestamp: number, nowMs: number): void {
    const stats = this.#receiveStats.get(ssrc);
    if (this.#closed || !stats) return;
    stats.senderReportReceived(ntpMs, nowMs);
    for (const consumer of this.#consumers) consumer.receiveSenderReport(ssrc, ntpMs, rtpTimestamp);
  }

  /** @internal Report blocks on what this producer received since the last call (RFC 3550 §6.4.2). */
  takeReportBlocks(nowMs: number): ReportBlock[] {
    const blocks: ReportBlock[] = [];
    for (const stats of this.#receiveStats.values()) {
      if (stats.packets === 0) continue;
      blocks.push(stats.takeReportBlock(nowMs, { ssrc: 0, fractionLost: 0, cumulativeLost: 0, extendedHighestSequence: 0, jitter: 0, lastSenderReport: 0, delaySinceLastSenderReport: 0 }));
    }
    return blocks;
  }

  /** @internal A consumer asks for a key frame (its client's PLI or FIR, or a new consumer). Throttled. */
  requestKeyFrame(): void {
    if (this.#closed || this.kind !== 'video') return;
    this.#throttle.request();
  }

  #sendKeyFrameRequest(): void {
    if (this.#closed) return;
    const media = this.rtpParameters.codecs[0];
    const usePli = hasFeedback(media, 'nack', 'pli');
    const useFir = !usePli && hasFeedback(media, 'ccm', 'fir');
    if (!usePli && !useFir) return;
    for (const e of this.rtpParameters.encodings) {
      if (e.ssrc === undefined) continue;
      this.#link.sendRtcp(usePli ? buildPli(this.#link.rtcpSsrc, e.ssrc) : buildFir(this.#link.rtcpSsrc, e.ssrc, this.#firSeqNr));
    }
    if (useFir) this.#firSeqNr = (this.#firSeqNr + 1) & 0xff;
  }

  close(): void {
    if (this.#closed) return;
    this.#teardown();
    this.safeEmit('@close');
  }

  /** @internal Its transport closed (and told the router). */
  transportClosed(): void {
    if (this.#closed) return;
    this.#teardown();
    this.safeEmit('transportclose');
  }

  #teardown(): void {
    this.#closed = true;
    this.#throttle.close();
    for (const consumer of [...this.#consumers]) consumer.producerClosed();
    this.#consumers.clear();
  }
}
