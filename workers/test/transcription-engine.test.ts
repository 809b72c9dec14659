import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { decodeToEngineWav, ffmpegPath, highBandLevelDb, NARROWBAND_BELOW_DB, NotAudioError } from '../src/transcription/audio.ts';
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
/**
 * The LibriVox sentences in the telephone band (8 kHz G.711 µ-law, as a deposit is stored): 50.7 %
 * with the upper band filled, 102.8 % without (BENCHMARKS.md, 2026-12-08).
 */
const TELEPHONE_LIBRIVOX_WER_CEILING = 0.6;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-transcription-test-'));
const ffmpeg = ffmpegPath(process.env.FFMPEG_PATH);
const engine = pocketsphinxEngine();
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

async function transcribeAll(samples: SpeechSample[], fillNarrowband = engine.widebandOnly) {
  let errors = 0;
  let words = 0;
  const results = [];
  for (const [i, s] of samples.entries()) {
    const wav = await decodeToEngineWav(s.file, path.join(work, `decoded-${s.set}-${i}.wav`), { ffmpeg, maxSeconds: 900, fillNarrowband });
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

  it(`transcribes a call's recording (telephone band) under ${TELEPHONE_LIBRIVOX_WER_CEILING * 100} % WER once its empty upper band is filled, and far worse without`, { timeout: 120_000 }, async () => {
    const telephone = testdataSamples()
      .filter((s) => s.set === 'librivox')
      .map((s, i) => ({ ...s, file: telephoneBand(s.file, `tel-${i}.wav`) }));
    const filled = await transcribeAll(telephone, true);
    expect(filled.results.every((r) => r.wav.narrowband)).toBe(true);
    expect(filled.wer).toBeLessThanOrEqual(TELEPHONE_LIBRIVOX_WER_CEILING);
    const asIs = await transcribeAll(telephone, false);
    expect(asIs.wer).toBeGreaterThan(filled.wer + 0.25);
  });

  it('refuses a language it has no model for, by name, instead of transcribing it as English', () => {
    expect(() => engine.checkLanguage('fr')).toThrow(UnsupportedLanguageError);
    expect(() => engine.checkLanguage('fr')).toThrow(/no model for language "fr"/);
    expect(() => engine.checkLanguage('en')).not.toThrow();
  });
});

/** What a deposit sounds like once stored: 8 kHz G.711 µ-law in a WAV. */
function telephoneBand(file: string, name: string): string {
  const out = path.join(work, name);
  execFileSync(ffmpeg, ['-nostdin', '-loglevel', 'error', '-y', '-i', file, '-ac', '1', '-ar', '8000', '-c:a', 'pcm_mulaw', out]);
  return out;
}

describe('audio decoding', () => {
  /** One second of tones at 16 kHz, each at the same amplitude. */
  const tones = (...hz: number[]) => Int16Array.from({ length: 16_000 }, (_, n) => Math.round(hz.reduce((sum, f) => sum + 8000 * Math.sin((2 * Math.PI * f * n) / 16_000), 0)));

  it('tells a narrowband signal (nothing above 4.6 kHz) from a wideband one by its upper band', () => {
    expect(highBandLevelDb(tones(300, 1000, 3000))).toBeLessThan(NARROWBAND_BELOW_DB);
    expect(highBandLevelDb(tones(300, 1000, 3000, 6000))).toBeGreaterThan(-10);
    // A wideband signal whose top is 30 dB under its body is still wideband.
    const quietTop = tones(1000).map((x, n) => x + Math.round(250 * Math.sin((2 * Math.PI * 6000 * n) / 16_000)));
    expect(highBandLevelDb(quietTop)).toBeGreaterThan(NARROWBAND_BELOW_DB);
    expect(highBandLevelDb(new Int16Array(16_000))).toBe(-Infinity);
  });

  it('finds a call recorded at 8 kHz narrowband and fills its upper band only when asked; a wideband recording is left as it is', async () => {
    const librivox = testdataSamples().find((s) => s.set === 'librivox')!;
    const call = telephoneBand(librivox.file, 'call.wav');
    const level = (file: string) => {
      const buf = fs.readFileSync(file);
      return highBandLevelDb(new Int16Array(buf.buffer.slice(buf.byteOffset + 44, buf.byteOffset + buf.length - ((buf.length - 44) % 2))));
    };
    const asIs = await decodeToEngineWav(call, path.join(work, 'call-as-is.wav'), { ffmpeg, maxSeconds: 60 });
    expect(asIs.narrowband).toBe(true);
    expect(level(asIs.path)).toBeLessThan(NARROWBAND_BELOW_DB);
    const filled = await decodeToEngineWav(call, path.join(work, 'call-filled.wav'), { ffmpeg, maxSeconds: 60, fillNarrowband: true });
    expect(filled.narrowband).toBe(true);
    expect(filled.durationMs).toBe(asIs.durationMs);
    expect(level(filled.path)).toBeGreaterThan(NARROWBAND_BELOW_DB);
    const wide = await decodeToEngineWav(librivox.file, path.join(work, 'wide.wav'), { ffmpeg, maxSeconds: 60, fillNarrowband: true });
    expect(wide.narrowband).toBe(false);
  });

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
