/**
 * A prompt encoded once into a codec's 20 ms frames, so that any number of
 * listeners play it by copying bytes. The last frame is completed with
 * silence so the prompt always divides into whole frames.
 */
import type { AudioCodec } from '../codecs/audio-codec.ts';
import { OPUS_FRAME_SAMPLES, OpusCodec } from '../codecs/opus-codec.ts';
import { Resampler } from '../codecs/resampler.ts';

export interface EncodedPrompt {
  codec: string;
  /** Bytes per 20 ms frame. */
  frameBytes: number;
  /** RTP timestamp units per frame. */
  frameTimestamp: number;
  frames: number;
  data: Uint8Array;
}

/** For the constant-bitrate codecs (G.711): one byte per sample. */
export function encodePrompt(pcm: Int16Array, codec: AudioCodec): EncodedPrompt {
  const frameSamples = codec.sampleRate / 50;
  const frames = Math.max(1, Math.ceil(pcm.length / frameSamples));
  const padded = new Int16Array(frames * frameSamples);
  padded.set(pcm);
  const data = new Uint8Array(frames * frameSamples);
  const written = codec.encode(padded, padded.length, data, 0);
  if (written !== data.length) throw new RangeError(`${codec.name} is not a one-byte-per-sample codec`);
  return { codec: codec.name, frameBytes: frameSamples, frameTimestamp: (codec.clockRate / 50) | 0, frames, data };
}

/**
 * For browser legs: the 8 kHz prompt resampled to 48 kHz and encoded as Opus
 * at a hard constant bitrate, so every frame has the same size and plays
 * like a G.711 prompt, by copying bytes.
 */
export function encodeOpusPrompt(pcm8k: Int16Array): EncodedPrompt {
  const opus = new OpusCodec({ constantBitrate: true });
  const resampler = new Resampler(8000, OPUS_FRAME_SAMPLES * 50);
  const frames = Math.max(1, Math.ceil(pcm8k.length / 160));
  const input = new Int16Array(160);
  const wide = new Int16Array(OPUS_FRAME_SAMPLES);
  const scratch = new Uint8Array(1500);
  const encoded: Uint8Array[] = [];
  for (let f = 0; f < frames; f++) {
    input.fill(0);
    input.set(pcm8k.subarray(f * 160, f * 160 + 160));
    const n = resampler.process(input, 160, wide);
    if (n < OPUS_FRAME_SAMPLES) wide.fill(0, n);
    const bytes = opus.encode(wide, OPUS_FRAME_SAMPLES, scratch, 0);
    encoded.push(scratch.slice(0, bytes));
  }
  const frameBytes = encoded[0]!.length;
  if (encoded.some((e) => e.length !== frameBytes)) throw new RangeError('Opus frames of a constant-bitrate prompt differ in size');
  const data = new Uint8Array(frames * frameBytes);
  encoded.forEach((e, i) => data.set(e, i * frameBytes));
  return { codec: 'opus', frameBytes, frameTimestamp: OPUS_FRAME_SAMPLES, frames, data };
}
