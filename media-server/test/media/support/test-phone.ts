/**
 * A minimal SIP-less "phone" for tests: real UDP sockets on 127.0.0.1 that
 * send G.711 RTP carrying a tone every 20 ms (from the RTP socket, so
 * symmetric RTP latching can work), RTCP SR/RR, RFC 4733 digits, and record
 * everything that comes back.
 */
import dgram, { type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { AudioCodec } from '../../../src/media/codecs/audio-codec.ts';
import { PCMA, PCMU } from '../../../src/media/codecs/g711-codec.ts';
import { ToneGenerator } from '../../../src/media/audio/tone-generator.ts';
import { buildDtmfPackets } from '../../../src/media/dtmf/dtmf-sender.ts';
import { TelephoneEventReceiver } from '../../../src/media/dtmf/telephone-event-receiver.ts';
import { ntpFromUnixMs } from '../../../src/media/rtp/ntp-time.ts';
import { buildReceiverReport, buildSenderReport, parseRtcpCompound, type RtcpPacket } from '../../../src/media/rtp/rtcp-packet.ts';
import { parseRtpHeader, writeRtpHeader } from '../../../src/media/rtp/rtp-header.ts';
import { RtpReceiveStatistics } from '../../../src/media/rtp/rtp-receive-statistics.ts';
import type { SrtpContext } from '../../../src/media/srtp/srtp-context.ts';

export interface TestPhoneOptions {
  codec: 'PCMU' | 'PCMA';
  payloadType?: number;
  telephoneEventPayloadType?: number;
  toneHz: number;
  amplitude?: number;
  ssrc?: number;
  /** Sequence numbers to skip (simulated loss). */
  skip?: Set<number>;
  srtp?: { tx: SrtpContext; rx: SrtpContext };
  /**
   * Puts an RFC 6464 client-to-mixer audio level in every packet, in an
   * RFC 8285 header extension of the one-byte (default) or two-byte form,
   * whatever the audio is: `level` is in −dBov (0 loudest, 127 silence).
   */
  audioLevel?: { id: number; level: number; twoByte?: boolean };
}

export interface ReceivedPacket {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  payload: Buffer;
  from: number;
}

export class TestPhone {
  readonly rtp: Socket;
  readonly rtcp: Socket;
  readonly codec: AudioCodec;
  readonly payloadType: number;
  readonly ssrc: number;
  readonly received: ReceivedPacket[] = [];
  readonly rtcpReceived: RtcpPacket[][] = [];
  readonly digits: { digit: string; durationMs: number }[] = [];
  readonly stats = new RtpReceiveStatistics(8000);
  private readonly options: TestPhoneOptions;
  private tone: ToneGenerator;
  private readonly dtmfReceiver: TelephoneEventReceiver;
  private timer: NodeJS.Timeout | null = null;
  private nextFrameMs = 0;
  private seq = 1000;
  private timestamp = 50_000;
  private sent = 0;
  /**
   * When this phone's own sending stalled (its timer ran more than 60 ms late: the test process was
   * busy), by the monotonic clock: a gap in what the relay received then is the phone's, not the relay's.
   */
  readonly stalls: { from: number; to: number }[] = [];
  private lastTickMs = 0;
  private remote: { port: number; rtcpPort: number } | null = null;
  private sending = true;
  /** PCM queued to send instead of the tone, 160 samples a frame. */
  private queued: Int16Array | null = null;
  private queuedAt = 0;

  private constructor(options: TestPhoneOptions, rtp: Socket, rtcp: Socket) {
    this.options = options;
    this.rtp = rtp;
    this.rtcp = rtcp;
    this.codec = options.codec === 'PCMA' ? PCMA : PCMU;
    this.payloadType = options.payloadType ?? (options.codec === 'PCMA' ? 8 : 0);
    this.ssrc = options.ssrc ?? Math.floor(Math.random() * 0xffffffff);
    this.tone = new ToneGenerator([options.toneHz], options.amplitude ?? 8000);
    this.dtmfReceiver = new TelephoneEventReceiver(8000, (digit, durationMs) => this.digits.push({ digit, durationMs }));
    rtp.on('message', (msg) => this.onRtp(msg));
    rtcp.on('message', (msg) => this.onRtcp(msg));
  }

  static async open(options: TestPhoneOptions): Promise<TestPhone> {
    const rtp = dgram.createSocket('udp4');
    const rtcp = dgram.createSocket('udp4');
    // An even/odd pair is not needed: the relay is told both ports.
    rtp.bind(0, '127.0.0.1');
    rtcp.bind(0, '127.0.0.1');
    await Promise.all([once(rtp, 'listening'), once(rtcp, 'listening')]);
    return new TestPhone(options, rtp, rtcp);
  }

  get address() {
    return { address: '127.0.0.1', rtpPort: this.rtp.address().port, rtcpPort: this.rtcp.address().port };
  }

  get packetsSent(): number {
    return this.sent;
  }

  /**
   * Starts sending audio every 20 ms to the relay's ports, paced by the
   * monotonic clock as a phone's audio clock paces it: setInterval drifts
   * by a percent or more, which looks like a sender whose clock runs slow.
   */
  start(remote: { rtpPort: number; rtcpPort: number }): void {
    this.remote = { port: remote.rtpPort, rtcpPort: remote.rtcpPort };
    this.nextFrameMs = performance.now();
    this.lastTickMs = this.nextFrameMs;
    this.tick();
  }

  private readonly tick = (): void => {
    const now = performance.now();
    if (now - this.lastTickMs > 60) this.stalls.push({ from: this.lastTickMs, to: now });
    this.lastTickMs = now;
    // After a stall, a few frames go at once, as from a phone's audio buffer; beyond that they are skipped.
    for (let n = 0; this.nextFrameMs <= now && n < 5; n++) {
      this.sendFrame();
      this.nextFrameMs += 20;
    }
    if (this.nextFrameMs <= now) this.nextFrameMs = now + 20;
    this.timer = setTimeout(this.tick, this.nextFrameMs - now);
  };

  /** Stops the audio (the phone goes quiet, as on mute). */
  pause(): void {
    this.sending = false;
  }

  resume(): void {
    this.sending = true;
  }

  /** From the next frame on, sends this tone instead (amplitude 0: digital silence). */
  setTone(hz: number, amplitude: number): void {
    this.tone = new ToneGenerator([hz], amplitude);
  }

  /** Sends this audio next, in place of the tone, then goes back to the tone. */
  sendAudio(pcm: Int16Array): void {
    this.queued = pcm;
    this.queuedAt = 0;
  }

  private sendFrame(): void {
    if (!this.remote || !this.sending) return;
    const pcm = new Int16Array(160);
    if (this.queued) {
      pcm.set(this.queued.subarray(this.queuedAt, this.queuedAt + 160));
      this.queuedAt += 160;
      if (this.queuedAt >= this.queued.length) this.queued = null;
    } else {
      this.tone.fill(pcm);
    }
    const packet = Buffer.alloc(12 + 8 + 160 + 10);
    writeRtpHeader(packet, { marker: this.sent === 0, payloadType: this.payloadType, sequenceNumber: this.seq, timestamp: this.timestamp, ssrc: this.ssrc });
    const headerLength = this.options.audioLevel ? 12 + writeAudioLevelExtension(packet, 12, this.options.audioLevel) : 12;
    this.codec.encode(pcm, 160, packet, headerLength);
    const skip = this.options.skip?.has(this.seq);
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + 160) >>> 0;
    if (skip) return;
    this.send(packet, headerLength + 160);
  }

  private send(packet: Buffer, length: number): void {
    let n = length;
    let out = packet;
    if (this.options.srtp) {
      out = Buffer.alloc(length + 10);
      n = this.options.srtp.tx.protect(packet, length, out);
    }
    this.sent++;
    this.rtp.send(out, 0, n, this.remote!.port, '127.0.0.1');
  }

  /** Sends one RFC 4733 digit, paced at 20 ms, interrupting the audio as phones do. */
  async sendDigit(digit: string, durationMs = 100): Promise<void> {
    const te = this.options.telephoneEventPayloadType;
    if (te === undefined) throw new Error('no telephone-event payload type');
    const wasSending = this.sending;
    this.sending = false;
    const packets = buildDtmfPackets({ digit, durationMs, payloadType: te, ssrc: this.ssrc, sequenceNumber: this.seq, timestamp: this.timestamp });
    for (const p of packets) {
      this.send(p, p.length);
      await new Promise((r) => setTimeout(r, 20));
    }
    this.seq = (this.seq + packets.length) & 0xffff;
    this.timestamp = (this.timestamp + durationMs * 8) >>> 0;
    this.sending = wasSending;
  }

  sendSenderReport(): void {
    const sr = buildSenderReport({ ssrc: this.ssrc, ntpMs: ntpFromUnixMs(Date.now()), rtpTimestamp: this.timestamp, packetCount: this.sent, octetCount: this.sent * 160 });
    this.rtcp.send(sr, this.remote!.rtcpPort, '127.0.0.1');
  }

  /** An RR about what this phone receives, echoing the last SR it got (LSR/DLSR). */
  sendReceiverReport(): void {
    const block = this.stats.takeReportBlock(performance.now(), {
      ssrc: 0,
      fractionLost: 0,
      cumulativeLost: 0,
      extendedHighestSequence: 0,
      jitter: 0,
      lastSenderReport: 0,
      delaySinceLastSenderReport: 0,
    });
    this.rtcp.send(buildReceiverReport({ ssrc: this.ssrc, reports: [block] }), this.remote!.rtcpPort, '127.0.0.1');
  }

  private onRtp(msg: Buffer): void {
    let length = msg.length;
    if (this.options.srtp) {
      length = this.options.srtp.rx.unprotect(msg, length);
      if (length < 0) return;
    }
    const h = parseRtpHeader(msg, length);
    if (!h) return;
    const now = performance.now();
    const payload = Buffer.from(msg.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength));
    this.received.push({ payloadType: h.payloadType, sequenceNumber: h.sequenceNumber, timestamp: h.timestamp, ssrc: h.ssrc, marker: h.marker, payload, from: now });
    const isEvent = h.payloadType === this.options.telephoneEventPayloadType;
    this.stats.update(h.ssrc, h.sequenceNumber, h.timestamp, now, h.payloadLength, !isEvent);
    if (isEvent) this.dtmfReceiver.receive(h.timestamp, payload, 0, payload.length, now);
  }

  private onRtcp(msg: Buffer): void {
    const packets = parseRtcpCompound(msg);
    if (!packets) return;
    this.rtcpReceived.push(packets);
    for (const p of packets) if (p.type === 'sr') this.stats.senderReportReceived(p.ntpMs, performance.now());
  }

  /** Audio received with this phone's payload type, decoded, from the last `ms` milliseconds. */
  audio(sinceMs = 0): Int16Array {
    const packets = this.received.filter((p) => p.payloadType === this.payloadType && p.from >= sinceMs);
    const pcm = new Int16Array(packets.length * 160);
    packets.forEach((p, i) => this.codec.decode(p.payload, 0, Math.min(160, p.payload.length), pcm.subarray(i * 160)));
    return pcm;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.rtp.close();
    this.rtcp.close();
  }
}

/**
 * Writes an RFC 8285 header extension holding one RFC 6464 audio level at
 * `at` (right after a 12-byte header), sets the header's X bit, and returns
 * the extension's length. One-byte form (§4.2): 0xBEDE, then ID|L with
 * L = 0 for one byte of data; two-byte form (§4.3): 0x1000, then ID, length.
 * RFC 6464 §3: the data byte is V (voice activity) and the 7-bit level.
 */
export function writeAudioLevelExtension(packet: Buffer, at: number, level: { id: number; level: number; twoByte?: boolean }): number {
  packet[0] = packet[0]! | 0x10;
  const data = 0x80 | (level.level & 0x7f);
  if (level.twoByte) {
    packet.writeUInt16BE(0x1000, at);
    packet.writeUInt16BE(1, at + 2);
    // A padding byte first, as a sender may put one (RFC 8285 §4.3), then the element.
    packet.set([0, level.id, 1, data], at + 4);
  } else {
    packet.writeUInt16BE(0xbede, at);
    packet.writeUInt16BE(1, at + 2);
    packet.set([(level.id << 4) | 0, data, 0, 0], at + 4);
  }
  return 8;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(check: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (check()) return true;
    await sleep(20);
  }
  return check();
}
