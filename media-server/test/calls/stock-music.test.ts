import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MUSIC_TRACKS } from '@carillon/domain';
import { stockMusicPath } from '../../src/calls/stock-music.ts';
import { goertzelPower } from '../../src/media/audio/goertzel.ts';
import { readWav8kMono } from '../../src/media/media-player/wav-file.ts';

/**
 * The eleven stock tracks (inventory 2 X-02) are shipped as eleven distinct loops: each an 8 s, 8 kHz mono
 * file with sound in it and no clipping, and no two alike (their spectra, semitone by semitone from C2 to
 * E7, are compared: two takes of one piece would be near 1).
 */
async function spectrum(pcm: Int16Array): Promise<number[]> {
  const bands: number[] = [];
  for (let midi = 36; midi <= 100; midi++) {
    const hz = 440 * 2 ** ((midi - 69) / 12);
    let power = 0;
    for (let at = 0; at + 400 <= pcm.length; at += 400) power += goertzelPower(pcm, hz, 8000, at, 400);
    bands.push(Math.sqrt(power));
  }
  return bands;
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  a.forEach((x, i) => {
    dot += x * b[i]!;
    aa += x * x;
    bb += b[i]! * b[i]!;
  });
  return dot / Math.sqrt(aa * bb);
}

describe('the stock music tracks', () => {
  it('ships each of the eleven as its own small 8 s loop with sound in it', async () => {
    const spectra = new Map<string, number[]>();
    for (const track of MUSIC_TRACKS) {
      const path = stockMusicPath(track);
      expect(path).toMatch(new RegExp(`/static/audio/music/${track}\\.wav$`));
      expect(statSync(path).size).toBeLessThan(160 * 1024);
      const pcm = await readWav8kMono(path);
      expect(pcm.length, track).toBe(8 * 8000);
      let energy = 0;
      for (const s of pcm) energy += s * s;
      expect(Math.sqrt(energy / pcm.length), track).toBeGreaterThan(1000);
      expect(pcm.every((s) => s > -32768 && s < 32767), `${track} is not clipped`).toBe(true);
      spectra.set(track, await spectrum(pcm));
    }
    const alike: string[] = [];
    for (const [i, a] of MUSIC_TRACKS.entries()) {
      for (const b of MUSIC_TRACKS.slice(i + 1)) {
        const similarity = cosine(spectra.get(a)!, spectra.get(b)!);
        if (similarity > 0.95) alike.push(`${a} ~ ${b}: ${similarity.toFixed(3)}`);
      }
    }
    expect(alike).toEqual([]);
  });
});
