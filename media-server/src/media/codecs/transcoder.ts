/**
 * Converts one 20 ms payload between two codecs through linear PCM,
 * resampling when their rates differ (PCMU/PCMA at 8 kHz ↔ Opus at 48 kHz).
 * One instance per direction of a call: codecs like Opus and the resampler
 * carry state from frame to frame. Every buffer is allocated once.
 */
import type { AudioCodec } from './audio-codec.ts';
import { Resampler } from './resampler.ts';

/** Enough for 20 ms at 48 kHz and the largest Opus packet (RFC 6716: 1275 bytes per frame). */
const MAX_FRAME_SAMPLES = 960 * 3;
const MAX_PAYLOAD_BYTES = 1500;

export class Transcoder {
  readonly from: AudioCodec;
  readonly to: AudioCodec;
  private readonly resampler: Resampler | null;
  private readonly decoded = new Int16Array(MAX_FRAME_SAMPLES);
  private readonly resampled: Int16Array;
  private readonly output = Buffer.alloc(MAX_PAYLOAD_BYTES);

  constructor(from: AudioCodec, to: AudioCodec) {
    this.from = from;
    this.to = to;
    this.resampler = from.sampleRate === to.sampleRate ? null : new Resampler(from.sampleRate, to.sampleRate);
    this.resampled = this.resampler ? new Int16Array(MAX_FRAME_SAMPLES) : this.decoded;
  }

  /** Writes the converted payload at `out[outOffset]` and returns its length. */
  transcodeInto(payload: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number): number {
    const samples = this.from.decode(payload, offset, length, this.decoded);
    const count = this.resampler ? this.resampler.process(this.decoded, samples, this.resampled) : samples;
    return this.to.encode(this.resampled, count, out, outOffset);
  }

  /** Convenience form: the result is a view on an internal buffer, valid until the next call. */
  transcode(payload: Uint8Array): Buffer {
    const n = this.transcodeInto(payload, 0, payload.length, this.output, 0);
    return this.output.subarray(0, n);
  }

  /** RTP timestamp units of the output per unit of the input. */
  get timestampRatio(): number {
    return this.to.clockRate / this.from.clockRate;
  }
}
