/**
 * A prompt encoded once into a codec's 20 ms frames, so that any number of
 * listeners play it by copying bytes. The last frame is completed with
 * silence so the prompt always divides into whole frames.
 */
import type { AudioCodec } from '../codecs/audio-codec.ts';

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
