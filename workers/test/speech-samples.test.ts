import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { folderSamples, testdataSamples } from './speech-samples.ts';

/** The WER set's sources (bench/transcription.ts): a folder of recordings is taken whole, with its licence, or refused with the reason. */
describe('speech samples', () => {
  const dirs: string[] = [];
  const folder = (files: Record<string, string>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speech-set-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('reads a folder: each audio file with its reference line and the folder licence', () => {
    const dir = folder({ 'a.wav': 'x', 'b.mp3': 'x', 'notes.txt': 'not audio', transcription: '<s> hello there </s> (a)\nsecond line (b)\n', LICENCE: 'public domain\nLibriVox readings\n' });
    expect(folderSamples(dir)).toEqual([
      { set: path.basename(dir), name: 'a', file: path.join(dir, 'a.wav'), reference: 'hello there', licence: 'public domain' },
      { set: path.basename(dir), name: 'b', file: path.join(dir, 'b.mp3'), reference: 'second line', licence: 'public domain' },
    ]);
  });

  it('refuses a folder without its licence, its references, a reference for each file, or any audio', () => {
    expect(() => folderSamples(folder({ 'a.wav': 'x', transcription: 'hi (a)\n' }))).toThrow(/no LICENCE file/);
    expect(() => folderSamples(folder({ 'a.wav': 'x', LICENCE: 'public domain' }))).toThrow(/no transcription file/);
    expect(() => folderSamples(folder({ 'a.wav': 'x', 'b.wav': 'x', transcription: 'hi (a)\n', LICENCE: 'public domain' }))).toThrow(/no reference text for b\.wav/);
    expect(() => folderSamples(folder({ transcription: 'hi (a)\n', LICENCE: 'public domain' }))).toThrow(/no audio files/);
  });

  it('names the licence of the Debian recordings: LibriVox readings are public domain, the CMU cards BSD', () => {
    const samples = testdataSamples();
    expect(samples.filter((s) => s.licence === 'public domain').map((s) => s.set)).toEqual(['librivox', 'librivox', 'librivox', 'librivox', 'librivox']);
    expect(samples.filter((s) => s.licence !== 'public domain').map((s) => `${s.set}: ${s.licence}`)).toEqual(Array(5).fill('cards: BSD (CMU Sphinx)'));
  });
});
