import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeToEngineWav, ffmpegPath, NotAudioError } from '../src/transcription/audio.ts';
import { UnsupportedLanguageError } from '../src/transcription/engine.ts';
import { pocketsphinxEngine } from '../src/transcription/pocketsphinx.ts';
import { normaliseWords, wordErrorRate, wordErrors } from '../src/transcription/wer.ts';
import { espeakVoicemails, testdataSamples, type SpeechSample } from './speech-samples.ts';

/**
 * WER ceilings from bench/transcription.ts (BENCHMARKS.md, 2026-11-21):
 * pocketsphinx-testdata 33.7 % (LibriVox 33.8 %, cards 33.3 %), espeak-ng
 * voicemails 59.8 %. The margin absorbs a different ffmpeg or model build;
 * pocketsphinx itself is deterministic.
 */
const TESTDATA_WER_CEILING = 0.42;
const VOICEMAIL_WER_CEILING = 0.7;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-transcription-test-'));
const ffmpeg = ffmpegPath(process.env.FFMPEG_PATH);
const engine = pocketsphinxEngine();
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

async function transcribeAll(samples: SpeechSample[]) {
  let errors = 0;
  let words = 0;
  const results = [];
  for (const [i, s] of samples.entries()) {
    const wav = await decodeToEngineWav(s.file, path.join(work, `decoded-${s.set}-${i}.wav`), { ffmpeg, maxSeconds: 900 });
    const transcript = await engine.transcribe(wav.path, 'en');
    const e = wordErrors(s.reference, transcript.text);
    errors += e.errors;
    words += e.words;
    results.push({ sample: s, wav, transcript });
  }
  return { wer: errors / words, results };
}

describe('word error rate', () => {
  it('counts substitutions, deletions and insertions against the reference length', () => {
    expect(wordErrorRate('call me back', 'call me back')).toBe(0);
    expect(wordErrorRate('call me back', 'call you back')).toBeCloseTo(1 / 3);
    expect(wordErrorRate('call me back', 'call back')).toBeCloseTo(1 / 3);
    expect(wordErrorRate('call me back', 'please call me back now')).toBeCloseTo(2 / 3);
    expect(wordErrors('Hello, Mr. Smith!', 'hello mister smith')).toEqual({ errors: 0, words: 3 });
    expect(normaliseWords('<s> he was ill-disposed </s>')).toEqual(['he', 'was', 'ill', 'disposed']);
  });
});

describe('pocketsphinx engine', () => {
  it(`transcribes Debian's pocketsphinx-testdata under ${TESTDATA_WER_CEILING * 100} % WER, with word timings and confidence`, { timeout: 120_000 }, async () => {
    const samples = testdataSamples();
    expect(samples.length).toBe(10);
    const { wer, results } = await transcribeAll(samples);
    expect(wer).toBeLessThanOrEqual(TESTDATA_WER_CEILING);
    for (const { wav, transcript } of results) {
      expect(transcript.words.length).toBeGreaterThan(0);
      expect(transcript.text).toBe(transcript.words.map((w) => w.word).join(' '));
      let previousEnd = 0;
      for (const w of transcript.words) {
        expect(w.word).not.toMatch(/^<|\(\d\)$|^\[/);
        expect(w.startMs).toBeGreaterThanOrEqual(previousEnd);
        expect(w.endMs).toBeGreaterThan(w.startMs);
        expect(w.endMs).toBeLessThanOrEqual(wav.durationMs + 50);
        expect(w.confidence).toBeGreaterThanOrEqual(0);
        expect(w.confidence).toBeLessThanOrEqual(1);
        previousEnd = w.endMs;
      }
      expect(transcript.confidence).toBeGreaterThan(0);
    }
    // A known sentence lands where it is said: "consider" is about 2.9 s into LibriVox 0870.
    const consider = results[0]!.transcript.words.find((w) => w.word === 'consider');
    expect(consider?.startMs).toBeGreaterThan(2500);
    expect(consider?.startMs).toBeLessThan(3300);
  });

  it(`transcribes espeak-ng voicemails in WAV, MP3 and OGG/Opus under ${VOICEMAIL_WER_CEILING * 100} % WER`, { timeout: 120_000 }, async () => {
    const samples = espeakVoicemails(path.join(work, 'voicemails'), ffmpeg);
    expect(samples.map((s) => path.extname(s.file))).toEqual(['.wav', '.mp3', '.ogg', '.wav', '.mp3']);
    const { wer, results } = await transcribeAll(samples);
    expect(wer).toBeLessThanOrEqual(VOICEMAIL_WER_CEILING);
    for (const { sample, wav } of results) {
      // Decoding measured the real length, whatever the container.
      expect(wav.durationMs, sample.name).toBeGreaterThan(3000);
    }
  });

  it('refuses a language it has no model for, by name, instead of transcribing it as English', () => {
    expect(() => engine.checkLanguage('fr')).toThrow(UnsupportedLanguageError);
    expect(() => engine.checkLanguage('fr')).toThrow(/no model for language "fr"/);
    expect(() => engine.checkLanguage('en')).not.toThrow();
  });
});

describe('audio decoding', () => {
  it('refuses a file that is not audio with a clear reason', async () => {
    const fake = path.join(work, 'invoice.mp3');
    fs.writeFileSync(fake, '%PDF-1.4 this is not audio at all\n'.repeat(50));
    const err = await decodeToEngineWav(fake, path.join(work, 'fake.wav'), { ffmpeg, maxSeconds: 60 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotAudioError);
    expect((err as Error).message).toMatch(/^not an audio file ffmpeg can decode: /);
    expect((err as Error).message).not.toContain(work);
  });

  it('refuses an empty file', async () => {
    const empty = path.join(work, 'empty.wav');
    fs.writeFileSync(empty, '');
    await expect(decodeToEngineWav(empty, path.join(work, 'empty-out.wav'), { ffmpeg, maxSeconds: 60 })).rejects.toBeInstanceOf(NotAudioError);
  });
});
