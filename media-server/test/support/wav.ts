import fs from 'node:fs';
import { wavHeader } from '../../src/media/media-player/wav-file.ts';

/** RMS level and the share of energy near a frequency of a 16-bit WAV, channels mixed (baresip's and our recordings). */
export function analyseWav(file: string, hz: number): { seconds: number; rms: number; toneShare: number } {
  const buf = fs.readFileSync(file);
  let offset = 12;
  let rate = 8000;
  let channels = 1;
  let data: Buffer | null = null;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(offset + 10);
      rate = buf.readUInt32LE(offset + 12);
    }
    if (id === 'data') data = buf.subarray(offset + 8, Math.min(buf.length, offset + 8 + size));
    offset += 8 + size + (size % 2);
  }
  if (!data) return { seconds: 0, rms: 0, toneShare: 0 };
  const n = Math.floor(data.length / 2 / channels);
  const sample = (i: number) => {
    let v = 0;
    for (let c = 0; c < channels; c++) v += data!.readInt16LE((i * channels + c) * 2);
    return v / channels;
  };
  const samples = Array.from({ length: n }, (_, i) => sample(i));
  return { seconds: n / rate, ...analyseSamples(samples, hz, rate) };
}

/** RMS level and the share of energy near `hz` (Goertzel power against the total) of PCM samples. */
export function analyseSamples(samples: readonly number[], hz: number, rate = 8000): { rms: number; toneShare: number } {
  const n = samples.length;
  let sum = 0;
  for (const v of samples) sum += v * v;
  const k = (2 * Math.PI * hz) / rate;
  let s1 = 0;
  let s2 = 0;
  for (const v of samples) {
    const s0 = v + 2 * Math.cos(k) * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const tone = (s1 * s1 + s2 * s2 - 2 * Math.cos(k) * s1 * s2) / (n / 2);
  return { rms: Math.sqrt(sum / Math.max(1, n)), toneShare: sum > 0 ? Math.min(1, tone / sum) : 0 };
}

/**
 * A WAV of a sine of `hz` for `ms`, then `silenceMs` of silence: 16-bit mono at 8 kHz, as the prompts
 * library stores uploads (a menu's prompt, a greeting). Its amplitude (8000) is well above the tests' energy bounds.
 */
export function toneWav(hz: number, ms: number, silenceMs = 0): Buffer {
  const tone = Math.round((ms * 8000) / 1000);
  const n = tone + Math.round((silenceMs * 8000) / 1000);
  const out = Buffer.alloc(44 + n * 2);
  wavHeader(8000, 1, n * 2, out);
  for (let i = 0; i < tone; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)), 44 + i * 2);
  return out;
}
