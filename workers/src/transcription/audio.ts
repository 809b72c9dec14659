import { runProgram } from '../tools/run-program.ts';
import fs from 'node:fs';

// One ffmpeg for the whole product (core/audio): the app converts uploaded prompts with it too.
export { ffmpegPath } from '@carillon/core/audio';

/** The signed 16-bit, 16 kHz, mono WAV every engine here reads. */
export const ENGINE_SAMPLE_RATE = 16_000;

/** Input the decoder could not read as audio: retrying cannot help. */
export class NotAudioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAudioError';
  }
}

export interface DecodedAudio {
  path: string;
  durationMs: number;
  /** Recorded in the telephone band (nothing above ~4 kHz): a phone call, whatever its container's rate. */
  narrowband: boolean;
}

/**
 * Energy above HIGH_BAND_HZ this far under the whole signal's, or lower: a narrowband recording.
 * Measured on bench/transcription.ts's samples: wideband speech −4 to −33 dB, the same through
 * 8 kHz G.711 and back to 16 kHz −53 to −67 dB.
 */
export const NARROWBAND_BELOW_DB = -45;
const HIGH_BAND_HZ = 4600;
/**
 * The noise floor put in the empty upper band of a narrowband recording for an engine whose model
 * was trained on wideband speech: white noise high-passed at 4 kHz, after the speech is levelled
 * (dynaudnorm), with a fixed seed so a transcript does not change between runs. Tuned on the
 * telephone-band testdata of bench/transcription.ts (pocketsphinx: WER 102 % → 59 %; flat from
 * 0.004 to 0.016, worse at 0.03).
 */
const HIGH_BAND_NOISE_AMPLITUDE = 0.008;

const FRAME = 512;

/** In-place radix-2 FFT (Cooley–Tukey, iterative) of FRAME complex points. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const angle = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(angle * k);
        const wi = Math.sin(angle * k);
        const a = i + k;
        const b = a + len / 2;
        const xr = re[b]! * wr - im[b]! * wi;
        const xi = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
      }
    }
  }
}

/**
 * How loud the signal is above HIGH_BAND_HZ against the whole, in dB, from the power spectra of
 * Hann-windowed frames of 512 samples (every fourth frame: enough to tell, and quick on an hour).
 * An 8 kHz call upsampled leaves only the resampler's and the window's leakage there.
 */
export function highBandLevelDb(samples: Int16Array, sampleRate = ENGINE_SAMPLE_RATE): number {
  const re = new Float64Array(FRAME);
  const im = new Float64Array(FRAME);
  const firstHighBin = Math.ceil((HIGH_BAND_HZ / sampleRate) * FRAME);
  let all = 0;
  let high = 0;
  for (let start = 0; start + FRAME <= samples.length; start += FRAME * 4) {
    for (let i = 0; i < FRAME; i++) {
      re[i] = samples[start + i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (FRAME - 1)));
      im[i] = 0;
    }
    fft(re, im);
    for (let k = 1; k < FRAME / 2; k++) {
      const power = re[k]! * re[k]! + im[k]! * im[k]!;
      all += power;
      if (k >= firstHighBin) high += power;
    }
  }
  if (all === 0) return -Infinity;
  return 10 * Math.log10(Math.max(high, 1e-12) / all);
}

/** The PCM16 samples of a WAV that ffmpeg wrote (its `data` chunk). */
function wavSamples(file: string): Int16Array {
  const buf = fs.readFileSync(file);
  const { offset, bytes } = wavData(buf);
  const out = new Int16Array(Math.floor(bytes / 2));
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt16LE(offset + i * 2);
  return out;
}

/**
 * Decodes any container ffmpeg knows (WAV, MP3, OGG/Opus, …) to the engines'
 * WAV. The duration is read from the decoded samples, not from a header that
 * an upload could fake.
 */
export async function decodeToEngineWav(
  input: string,
  output: string,
  options: { ffmpeg: string; maxSeconds: number; timeoutMs?: number; fillNarrowband?: boolean },
): Promise<DecodedAudio> {
  const args = [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
    '-i', input,
    '-vn', '-map', '0:a:0',
    '-t', String(options.maxSeconds),
    '-ac', '1', '-ar', String(ENGINE_SAMPLE_RATE), '-acodec', 'pcm_s16le', '-f', 'wav',
    output,
  ];
  const { code, stderr } = await runProgram(options.ffmpeg, args, options.timeoutMs ?? 120_000);
  if (code !== 0) {
    // ffmpeg's first line says what it found ("Invalid data found when processing input").
    const reason = stderr.split('\n').map((l) => l.replace(input, 'input').trim()).find(Boolean) ?? `exit code ${code}`;
    throw new NotAudioError(`not an audio file ffmpeg can decode: ${reason}`);
  }
  const samples = wavSamples(output);
  if (samples.length === 0) throw new NotAudioError('the file holds no audio samples');
  const durationMs = Math.round((samples.length / ENGINE_SAMPLE_RATE) * 1000);
  const narrowband = highBandLevelDb(samples) < NARROWBAND_BELOW_DB;
  if (narrowband && options.fillNarrowband) await fillHighBand(options.ffmpeg, output, options.timeoutMs ?? 120_000);
  return { path: output, durationMs, narrowband };
}

/** Rewrites `wav` (16 kHz mono) with the upper band's noise floor (HIGH_BAND_NOISE_AMPLITUDE). */
async function fillHighBand(ffmpeg: string, wav: string, timeoutMs: number): Promise<void> {
  const filled = `${wav}.filled.wav`;
  const graph = [
    '[0:a]dynaudnorm[speech]',
    `anoisesrc=color=white:amplitude=${HIGH_BAND_NOISE_AMPLITUDE}:seed=1:sample_rate=${ENGINE_SAMPLE_RATE},highpass=f=4000,highpass=f=4000[floor]`,
    // amix halves each of its two inputs (this ffmpeg has no normalize=0): volume=2 gives them back.
    '[speech][floor]amix=inputs=2:duration=first,volume=2',
  ].join(';');
  const { code, stderr } = await runProgram(ffmpeg, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', wav, '-filter_complex', graph, '-ac', '1', '-ar', String(ENGINE_SAMPLE_RATE), '-acodec', 'pcm_s16le', '-f', 'wav', filled], timeoutMs);
  if (code !== 0) throw new Error(`ffmpeg could not fill the upper band: ${stderr.trim().split('\n')[0] ?? `exit code ${code}`}`);
  fs.renameSync(filled, wav);
}

/** Where the `data` chunk of a WAV that ffmpeg wrote starts, and its size. */
function wavData(buf: Buffer): { offset: number; bytes: number } {
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    if (id === 'data') return { offset: offset + 8, bytes: Math.min(size, buf.length - offset - 8) };
    offset += 8 + size + (size % 2);
  }
  return { offset: 0, bytes: 0 };
}
