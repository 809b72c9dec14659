import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ffmpegPath, importUploadedAudio, loudestFrameRms, SILENCE_RMS } from '@carillon/core/audio';

/** The checks every uploaded greeting and prompt goes through: here, the one that refuses silence. */
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'media-audio-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A 16-bit mono WAV at 8 kHz of `seconds`, each sample from `sample(i)`. */
function wav(name: string, seconds: number, sample: (i: number) => number): string {
  const n = seconds * 8000;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(sample(i)))), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(16000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  const file = path.join(work, name);
  fs.writeFileSync(file, Buffer.concat([header, data]));
  return file;
}

/** Deterministic noise in [-1, 1]. */
function noise(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2147483648) / 1073741824) - 1;
}

describe('silence in uploaded audio', () => {
  it('measures the loudest 20 ms: a click in silence counts, a steady tone reads its RMS', () => {
    expect(loudestFrameRms(wav('zeros.wav', 1, () => 0))).toBe(0);
    // A 1,000-amplitude sine: RMS 707 (a 20 ms frame holds 8.8 periods of 440 Hz, so its loudest is a little above).
    const tone = loudestFrameRms(wav('tone.wav', 1, (i) => 1000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
    expect(tone).toBeGreaterThan(700);
    expect(tone).toBeLessThan(730);
    // One 20 ms burst of 600 in a second of zeros.
    expect(loudestFrameRms(wav('click.wav', 1, (i) => (i >= 4000 && i < 4160 ? 600 : 0)))).toBeCloseTo(600, 0);
  });

  it('refuses zeros and dither-level noise, and keeps quiet speech-level sound', async () => {
    const options = { ffmpeg: ffmpegPath(process.env.FFMPEG_PATH), maxBytes: 10 * 1024 * 1024, maxSeconds: 60 };
    const dither = noise(7);
    for (const [name, sample] of [
      ['muted.wav', () => 0],
      ['dither.wav', () => 4 * dither()],
    ] as const) {
      const out = path.join(work, `out-${name}`);
      await expect(importUploadedAudio(wav(name, 2, sample), out, options)).rejects.toMatchObject({ code: 'silent' });
      expect(fs.existsSync(out)).toBe(false);
    }
    const quiet = noise(11);
    // Room noise around −45 dBFS (RMS ≈ 180): far above the threshold.
    const out = path.join(work, 'out-quiet.wav');
    const { durationMs } = await importUploadedAudio(wav('quiet.wav', 2, () => 310 * quiet()), out, options);
    expect(durationMs).toBe(2000);
    expect(loudestFrameRms(out)).toBeGreaterThan(SILENCE_RMS * 3);
  });
});
