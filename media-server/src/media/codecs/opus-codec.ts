/**
 * Opus at 48 kHz mono, 20 ms frames, through @discordjs/opus (libopus built
 * from source bundled in the package, an N-API addon that loads in worker
 * threads). One instance holds one encoder and one decoder state, so each
 * direction of a call needs its own.
 */
import opus from '@discordjs/opus';
import type { AudioCodec } from './audio-codec.ts';

// A CommonJS addon whose exports Node cannot list statically: only the default import works.
const { OpusEncoder } = opus;

// libopus request codes (opus_defines.h).
const OPUS_SET_APPLICATION_REQUEST = 4000;
const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_INBAND_FEC_REQUEST = 4012;
const OPUS_SET_PACKET_LOSS_PERC_REQUEST = 4014;
const OPUS_SET_VBR_REQUEST = 4006;

export const OPUS_SAMPLE_RATE = 48_000;
export const OPUS_FRAME_SAMPLES = 960;

export interface OpusCodecOptions {
  /** Bits per second; 32 kb/s is wideband speech with room to spare. */
  bitrate?: number;
  /** Expected loss, to let the encoder add in-band FEC (RFC 7587 useinbandfec). */
  packetLossPercent?: number;
  /** Hard constant bitrate: every 20 ms frame has the same size (prompts rely on it). */
  constantBitrate?: boolean;
}

export class OpusCodec implements AudioCodec {
  readonly name = 'opus';
  readonly clockRate = OPUS_SAMPLE_RATE;
  readonly sampleRate = OPUS_SAMPLE_RATE;
  /** RFC 6716 §2.1.4: 60, 40, 20, 10, 5 and 2.5 ms at 48 kHz. */
  readonly frameSizes = [2880, 1920, 960, 480, 240, 120] as const;
  private readonly opus: InstanceType<typeof OpusEncoder>;
  /** encode() of the addon takes a Buffer: a fixed view on a fixed frame. */
  private readonly frame = new Int16Array(OPUS_FRAME_SAMPLES * 3);
  private readonly frameBytes = Buffer.from(this.frame.buffer, 0, OPUS_FRAME_SAMPLES * 3 * 2);

  constructor(options: OpusCodecOptions = {}) {
    this.opus = new OpusEncoder(OPUS_SAMPLE_RATE, 1);
    this.opus.applyEncoderCTL(OPUS_SET_APPLICATION_REQUEST, OPUS_APPLICATION_VOIP);
    this.opus.setBitrate(options.bitrate ?? 32_000);
    if (options.constantBitrate) this.opus.applyEncoderCTL(OPUS_SET_VBR_REQUEST, 0);
    if (options.packetLossPercent) {
      this.opus.applyEncoderCTL(OPUS_SET_INBAND_FEC_REQUEST, 1);
      this.opus.applyEncoderCTL(OPUS_SET_PACKET_LOSS_PERC_REQUEST, options.packetLossPercent);
    }
  }

  decode(payload: Uint8Array, offset: number, length: number, pcm: Int16Array): number {
    const input = Buffer.from(payload.buffer, payload.byteOffset + offset, length);
    const decoded = this.opus.decode(input);
    const samples = Math.min(decoded.length >> 1, pcm.length);
    for (let i = 0; i < samples; i++) pcm[i] = decoded.readInt16LE(i * 2);
    return samples;
  }

  /** `count` must be one of frameSizes; 960 (20 ms) is the usual. */
  encode(pcm: Int16Array, count: number, out: Uint8Array, outOffset: number): number {
    if (!(this.frameSizes as readonly number[]).includes(count)) throw new RangeError(`an Opus frame has ${this.frameSizes.join(', ')} samples, not ${count}`);
    this.frame.set(count === pcm.length ? pcm : pcm.subarray(0, count));
    // The addon takes the frame size from the length of the buffer it is given.
    const encoded = this.opus.encode(count === OPUS_FRAME_SAMPLES * 3 ? this.frameBytes : this.frameBytes.subarray(0, count * 2));
    encoded.copy(out, outOffset);
    return encoded.length;
  }
}
