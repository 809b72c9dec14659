/**
 * Converts one 20 ms payload between two codecs through linear PCM,
 * resampling when their rates differ (PCMU/PCMA at 8 kHz ↔ Opus at 48 kHz).
 * One instance per direction of a call: codecs like Opus and the resampler
 * carry state from frame to frame. Every buffer is allocated once.
 */
import type { AudioCodec } from './audio-codec.ts';
import { Resampler } from './resampler.ts';

/** Enough for 20 ms at 48 kHz and the largest Opus packet (RFC 6716: 1275 bytes per frame). */
const MAX_FRAME_SAMPLES = 960 * 6;
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
    this.resampled = new Int16Array(MAX_FRAME_SAMPLES);
  }

  /**
   * Output samples carried over from earlier packets (see frameSizes), and
   * how many of them the last packet started with: its audio began that
   * much earlier than its input's timestamp says.
   */
  private carried = 0;
  carriedIntoLastPacket = 0;

  /** Writes the converted payload at `out[outOffset]` and returns its length (0: nothing to send yet). */
  transcodeInto(payload: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number): number {
    const start = this.carried;
    const samples = this.from.decode(payload, offset, length, this.decoded);
    let count = samples;
    if (this.resampler) count = this.resampler.process(this.decoded, samples, this.resampled.subarray(start));
    else this.resampled.set(this.decoded.subarray(0, samples), start);
    const available = start + count;
    const sizes = this.to.frameSizes;
    if (!sizes) return this.to.encode(this.resampled, available, out, outOffset);
    // A codec with fixed frame durations (Opus: 2.5–60 ms) gets the largest frame the samples fill; the rest
    // waits for the next packet. 30 ms G.711 becomes 20 ms and 40 ms Opus packets, in step with the input.
    const size = sizes.find((n) => n <= available) ?? 0;
    this.carriedIntoLastPacket = start;
    if (size === 0) {
      this.carried = available;
      return 0;
    }
    const bytes = this.to.encode(this.resampled, size, out, outOffset);
    this.resampled.copyWithin(0, size, available);
    this.carried = available - size;
    return bytes;
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
