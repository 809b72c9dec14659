/**
 * The codec step between two legs, chosen once when the legs are joined:
 * nothing when both use the same codec, a byte table applied in place
 * between PCMU and PCMA (same size, so the received buffer is reused), or a
 * full Transcoder through linear PCM for codecs of different sizes or rates
 * (Opus, when WebRTC legs arrive).
 */
import type { AudioCodec } from '../codecs/audio-codec.ts';
import { ALAW_TO_ULAW, ULAW_TO_ALAW } from '../codecs/g711.ts';
import { Transcoder } from '../codecs/transcoder.ts';

export interface PayloadStep {
  /** True when apply() writes over the source bytes (dst must be src, same offset). */
  readonly inPlace: boolean;
  /** Destination timestamp units per source unit. */
  readonly timestampRatio: number;
  /**
   * Source timestamp units to add to the last converted packet's timestamp:
   * negative when it carries audio held back from earlier packets.
   */
  readonly timestampShift: number;
  /** Converts `length` payload bytes at `src[srcOffset]` to `dst[dstOffset]`; returns the new length. */
  apply(src: Uint8Array, srcOffset: number, length: number, dst: Uint8Array, dstOffset: number): number;
}

class ByteTableStep implements PayloadStep {
  readonly inPlace = true;
  readonly timestampRatio = 1;
  readonly timestampShift = 0;
  private readonly table: Uint8Array;
  constructor(table: Uint8Array) {
    this.table = table;
  }
  apply(src: Uint8Array, srcOffset: number, length: number, dst: Uint8Array, dstOffset: number): number {
    const table = this.table;
    for (let i = 0; i < length; i++) dst[dstOffset + i] = table[src[srcOffset + i]!]!;
    return length;
  }
}

class TranscoderStep implements PayloadStep {
  readonly inPlace = false;
  readonly timestampRatio: number;
  private readonly transcoder: Transcoder;
  constructor(from: AudioCodec, to: AudioCodec) {
    this.transcoder = new Transcoder(from, to);
    this.timestampRatio = this.transcoder.timestampRatio;
  }
  get timestampShift(): number {
    return -Math.round(this.transcoder.carriedIntoLastPacket / this.timestampRatio);
  }
  apply(src: Uint8Array, srcOffset: number, length: number, dst: Uint8Array, dstOffset: number): number {
    return this.transcoder.transcodeInto(src, srcOffset, length, dst, dstOffset);
  }
}

/** Null when no conversion is needed. Stateful steps: one per direction. */
export function createPayloadStep(from: AudioCodec, to: AudioCodec): PayloadStep | null {
  if (from.name === to.name) return null;
  if (from.name === 'PCMU' && to.name === 'PCMA') return new ByteTableStep(ULAW_TO_ALAW);
  if (from.name === 'PCMA' && to.name === 'PCMU') return new ByteTableStep(ALAW_TO_ULAW);
  return new TranscoderStep(from, to);
}
