/**
 * Integer-ratio resampler (8 kHz ↔ 48 kHz, also 16 kHz) as a polyphase FIR
 * filter: one Kaiser-windowed sinc low-pass at the high rate, cut below the
 * lower rate's Nyquist frequency. Upsampling runs each of the L phases over
 * the input history; downsampling computes only the kept outputs. The filter
 * keeps its history between calls, so consecutive 20 ms frames join without
 * clicks, and the working buffers are reused.
 */

export interface ResamplerOptions {
  /** Filter taps per phase; the total length is this times the ratio. */
  tapsPerPhase?: number;
  /** Passband edge as a fraction of the lower rate's Nyquist frequency. */
  cutoff?: number;
  /** Kaiser window β: 7 gives about 70 dB of stopband attenuation. */
  kaiserBeta?: number;
}

export class Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  private readonly up: boolean;
  private readonly ratio: number;
  /** For upsampling, phases[p * tapsPerPhase + k] = ratio · h[p + k·ratio]. */
  private readonly coefficients: Float32Array;
  private readonly taps: number;
  private readonly historyLength: number;
  private work: Float32Array;
  private phase = 0;

  constructor(fromRate: number, toRate: number, options: ResamplerOptions = {}) {
    const high = Math.max(fromRate, toRate);
    const low = Math.min(fromRate, toRate);
    if (!Number.isInteger(high / low)) throw new RangeError(`no integer ratio between ${fromRate} and ${toRate} Hz`);
    this.fromRate = fromRate;
    this.toRate = toRate;
    this.up = toRate > fromRate;
    this.ratio = high / low;
    const tapsPerPhase = options.tapsPerPhase ?? 32;
    const length = tapsPerPhase * this.ratio;
    const h = designLowPass(length, ((options.cutoff ?? 0.92) * low) / 2 / high, options.kaiserBeta ?? 7);
    if (this.up) {
      this.taps = tapsPerPhase;
      this.coefficients = new Float32Array(length);
      for (let p = 0; p < this.ratio; p++) {
        for (let k = 0; k < tapsPerPhase; k++) this.coefficients[p * tapsPerPhase + k] = this.ratio * h[p + k * this.ratio]!;
      }
      this.historyLength = tapsPerPhase - 1;
    } else {
      this.taps = length;
      this.coefficients = h;
      this.historyLength = length - 1;
    }
    this.work = new Float32Array(this.historyLength + 960);
  }

  /** Output samples for `count` input samples. */
  outputLength(count: number): number {
    if (this.up) return count * this.ratio;
    const start = (this.ratio - this.phase) % this.ratio;
    return count > start ? Math.ceil((count - start) / this.ratio) : 0;
  }

  /** Resamples `count` samples of `input` into `output`; returns how many were written. */
  process(input: Int16Array, count: number, output: Int16Array): number {
    const h = this.historyLength;
    if (this.work.length < h + count) {
      const grown = new Float32Array(h + count);
      grown.set(this.work.subarray(0, h));
      this.work = grown;
    }
    const work = this.work;
    for (let i = 0; i < count; i++) work[h + i] = input[i]!;
    const written = this.up ? this.upsample(count, output) : this.downsample(count, output);
    work.copyWithin(0, count, count + h);
    return written;
  }

  private upsample(count: number, output: Int16Array): number {
    const { work, coefficients, taps, ratio } = this;
    let o = 0;
    for (let n = 0; n < count; n++) {
      // Newest input sample of this step is work[historyLength + n].
      const newest = this.historyLength + n;
      for (let p = 0; p < ratio; p++) {
        const base = p * taps;
        let acc = 0;
        for (let k = 0; k < taps; k++) acc += coefficients[base + k]! * work[newest - k]!;
        output[o++] = clamp16(acc);
      }
    }
    return o;
  }

  private downsample(count: number, output: Int16Array): number {
    const { work, coefficients, taps, ratio } = this;
    let o = 0;
    // `phase` carries the position of the next kept sample across calls whose length is not a multiple of the ratio.
    let n = (ratio - this.phase) % ratio;
    for (; n < count; n += ratio) {
      const newest = this.historyLength + n;
      let acc = 0;
      for (let k = 0; k < taps; k++) acc += coefficients[k]! * work[newest - k]!;
      output[o++] = clamp16(acc);
    }
    this.phase = (this.phase + count) % ratio;
    return o;
  }

  reset(): void {
    this.work.fill(0);
    this.phase = 0;
  }
}

function clamp16(x: number): number {
  return x >= 32767 ? 32767 : x <= -32768 ? -32768 : Math.round(x);
}

/** Windowed-sinc low-pass of `length` taps, cutoff as a fraction of the sample rate, unity DC gain. */
function designLowPass(length: number, cutoff: number, beta: number): Float32Array {
  const h = new Float32Array(length);
  const centre = (length - 1) / 2;
  const i0Beta = besselI0(beta);
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const t = i - centre;
    const sinc = t === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * t) / (Math.PI * t);
    const r = (2 * i) / (length - 1) - 1;
    const window = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0Beta;
    h[i] = sinc * window;
    sum += h[i]!;
  }
  for (let i = 0; i < length; i++) h[i] = h[i]! / sum;
  return h;
}

/** Modified Bessel function of the first kind, order 0, by its power series. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const half = x / 2;
  for (let k = 1; k < 50; k++) {
    term *= (half / k) * (half / k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}
