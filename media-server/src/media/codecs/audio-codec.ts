/**
 * The codec step of the media path: payload bytes ↔ 16-bit linear PCM. Kept
 * this small so the relay can plug G.711 today and Opus with WebRTC legs,
 * each writing into buffers the caller owns.
 */
export interface AudioCodec {
  /** Encoding name as in SDP rtpmap (case as registered: PCMU, PCMA, opus). */
  readonly name: string;
  /** RTP timestamp rate. */
  readonly clockRate: number;
  /** Rate of the PCM that decode() produces and encode() takes. */
  readonly sampleRate: number;
  /** Decodes one payload into `pcm`; returns the number of samples written. */
  decode(payload: Uint8Array, offset: number, length: number, pcm: Int16Array): number;
  /**
   * The only sample counts encode() takes, largest first, for codecs with
   * fixed frame durations; undefined when any count will do (G.711).
   */
  readonly frameSizes?: readonly number[];
  /** Encodes `count` samples; returns the number of bytes written at `out[outOffset]`. */
  encode(pcm: Int16Array, count: number, out: Uint8Array, outOffset: number): number;
}

/** Samples in one 20 ms frame at `rate`, the packet time used everywhere here. */
export const frameSamples = (rate: number): number => rate / 50;
