/**
 * Sums of sines into 16-bit PCM with a running phase, so successive frames
 * join seamlessly: for prompts and tones generated on the fly, and for tests.
 */
export class ToneGenerator {
  readonly sampleRate: number;
  private readonly frequencies: readonly number[];
  private readonly amplitude: number;
  private sampleIndex = 0;

  /** `amplitude` is per tone, in 16-bit units. */
  constructor(frequencies: readonly number[], amplitude: number, sampleRate = 8000) {
    this.frequencies = frequencies;
    this.amplitude = amplitude;
    this.sampleRate = sampleRate;
  }

  fill(out: Int16Array, count = out.length, offset = 0): void {
    const step = (2 * Math.PI) / this.sampleRate;
    for (let i = 0; i < count; i++) {
      const t = (this.sampleIndex + i) * step;
      let v = 0;
      for (const f of this.frequencies) v += Math.sin(f * t);
      const s = Math.round(v * this.amplitude);
      out[offset + i] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
    }
    // Wrapped at a whole second so the phase argument never loses precision (frequencies are whole hertz).
    this.sampleIndex = (this.sampleIndex + count) % this.sampleRate;
  }
}

/** `count` samples of the tone, as a new array. */
export function generateTone(frequencies: readonly number[], amplitude: number, count: number, sampleRate = 8000): Int16Array {
  const out = new Int16Array(count);
  new ToneGenerator(frequencies, amplitude, sampleRate).fill(out);
  return out;
}
