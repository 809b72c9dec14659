/**
 * A browser-like Opus peer for tests, without WebRTC: a real UDP socket on
 * 127.0.0.1 that sends 20 ms Opus frames of a tone (48 kHz) every 20 ms,
 * each with its RFC 6464 audio level in a one-byte RFC 8285 header
 * extension as browsers send it, and decodes what comes back with its own
 * Opus decoder.
 */
import dgram, { type Socket } from 'node:dgram';
import { once } from 'node:events';
import { ToneGenerator } from '../../../src/media/audio/tone-generator.ts';
import { OpusCodec, OPUS_FRAME_SAMPLES, OPUS_SAMPLE_RATE } from '../../../src/media/codecs/opus-codec.ts';
import { parseRtpHeader, writeRtpHeader } from '../../../src/media/rtp/rtp-header.ts';
import { writeAudioLevelExtension } from './test-phone.ts';

export const OPUS_PAYLOAD_TYPE = 111;

export interface OpusTestPhoneOptions {
  /** 0 Hz or amplitude 0: the phone sends nothing at all (a listener). */
  toneHz: number;
  amplitude: number;
  /** The RFC 6464 level it announces (−dBov), in extension element `id`. */
  audioLevel?: { id: number; level: number };
}

export class OpusTestPhone {
  readonly socket: Socket;
  readonly ssrcs = new Set<number>();
  /** Decoded audio received, 48 kHz, with the arrival time of each frame. */
  private readonly frames: { pcm: Int16Array; from: number }[] = [];
  private readonly encoder = new OpusCodec();
  private readonly decoder = new OpusCodec();
  private readonly tone: ToneGenerator;
  private readonly options: OpusTestPhoneOptions;
  private timer: NodeJS.Timeout | null = null;
  private nextFrameMs = 0;
  private seq = 200;
  private timestamp = 9600;
  private readonly ssrc = Math.floor(Math.random() * 0xffffffff);

  private constructor(socket: Socket, options: OpusTestPhoneOptions) {
    this.socket = socket;
    this.options = options;
    this.tone = new ToneGenerator([options.toneHz], options.amplitude, OPUS_SAMPLE_RATE);
    socket.on('message', (msg) => this.onRtp(msg));
  }

  static async open(options: OpusTestPhoneOptions): Promise<OpusTestPhone> {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new OpusTestPhone(socket, options);
  }

  /** For a LegSpec: with rtcp-mux, as a browser. */
  get address() {
    const port = this.socket.address().port;
    return { address: '127.0.0.1', rtpPort: port, rtcpPort: port };
  }

  start(remote: { rtpPort: number }): void {
    if (this.options.amplitude === 0) return;
    this.nextFrameMs = performance.now();
    const tick = () => {
      const now = performance.now();
      for (let n = 0; this.nextFrameMs <= now && n < 5; n++) {
        this.sendFrame(remote.rtpPort);
        this.nextFrameMs += 20;
      }
      if (this.nextFrameMs <= now) this.nextFrameMs = now + 20;
      this.timer = setTimeout(tick, this.nextFrameMs - now);
    };
    tick();
  }

  private sendFrame(port: number): void {
    const pcm = new Int16Array(OPUS_FRAME_SAMPLES);
    this.tone.fill(pcm);
    const packet = Buffer.alloc(12 + 8 + 1500);
    writeRtpHeader(packet, { payloadType: OPUS_PAYLOAD_TYPE, sequenceNumber: this.seq, timestamp: this.timestamp, ssrc: this.ssrc });
    const header = this.options.audioLevel ? 12 + writeAudioLevelExtension(packet, 12, this.options.audioLevel) : 12;
    const n = this.encoder.encode(pcm, OPUS_FRAME_SAMPLES, packet, header);
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + OPUS_FRAME_SAMPLES) >>> 0;
    this.socket.send(packet, 0, header + n, port, '127.0.0.1');
  }

  private onRtp(msg: Buffer): void {
    const h = parseRtpHeader(msg, msg.length);
    if (!h || h.payloadType !== OPUS_PAYLOAD_TYPE) return;
    this.ssrcs.add(h.ssrc);
    const pcm = new Int16Array(OPUS_FRAME_SAMPLES * 3);
    const n = this.decoder.decode(msg, h.payloadOffset, h.payloadLength, pcm);
    this.frames.push({ pcm: pcm.subarray(0, n), from: performance.now() });
  }

  /** Frames received since `sinceMs`. */
  received(sinceMs: number): number {
    return this.frames.filter((f) => f.from >= sinceMs).length;
  }

  /** Decoded audio (48 kHz) received since `sinceMs`. */
  audio(sinceMs: number): Int16Array {
    const frames = this.frames.filter((f) => f.from >= sinceMs);
    const out = new Int16Array(frames.reduce((n, f) => n + f.pcm.length, 0));
    let at = 0;
    for (const f of frames) {
      out.set(f.pcm, at);
      at += f.pcm.length;
    }
    return out;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.socket.close();
  }
}
