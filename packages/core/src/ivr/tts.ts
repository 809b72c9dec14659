import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IvrLanguage } from '@carillon/domain';
import { runProgram } from '../audio/run-program.ts';
import { MEDIA_SAMPLE_RATE, wavDurationMs } from '../audio/media-audio.ts';

/**
 * Text to speech for prompts (PR-06). The engine sits behind this interface so that a better voice
 * can be plugged in; its `id` and voice are part of the cache key, so a new engine never serves the
 * old engine's audio.
 */
export interface TtsEngine {
  /** Names the engine and its version of the voices, e.g. `espeak-ng`. */
  readonly id: string;
  voiceFor(language: IvrLanguage): string;
  /** Writes `text` spoken in `voice` to `output`, in the media format (8 kHz mono 16-bit WAV). */
  synthesize(text: string, voice: string, output: string): Promise<void>;
}

export class TtsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TtsError';
  }
}

/**
 * eSpeak NG (Debian `espeak-ng`), the voice the recording announcements were made with
 * (static/audio/README.md): it writes 22.05 kHz, which SoX brings to 8 kHz mono 16-bit; `-R` keeps the
 * dither repeatable, so the same text always gives the same bytes. The text goes through a file, never the
 * command line, so no text can be read as an option.
 */
export class EspeakTtsEngine implements TtsEngine {
  readonly id = 'espeak-ng';
  private readonly options: { espeak?: string; sox?: string; wordsPerMinute?: number };
  constructor(options: { espeak?: string; sox?: string; wordsPerMinute?: number } = {}) {
    this.options = options;
  }

  voiceFor(language: IvrLanguage): string {
    return language === 'fr' ? 'fr' : 'en-us';
  }

  async synthesize(text: string, voice: string, output: string): Promise<void> {
    // A scratch directory of its own, with short names: espeak-ng cuts long file paths short.
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-tts-'));
    try {
      fs.writeFileSync(path.join(work, 'text.txt'), text, 'utf8');
      const spoken = await runProgram(this.options.espeak ?? 'espeak-ng', ['-v', voice, '-s', String(this.options.wordsPerMinute ?? 150), '-f', path.join(work, 'text.txt'), '-w', path.join(work, 'voice.wav')], 60_000);
      if (spoken.code !== 0) throw new TtsError(`espeak-ng failed: ${spoken.stderr.trim() || `exit code ${spoken.code}`}`);
      const resampled = await runProgram(this.options.sox ?? 'sox', ['-R', path.join(work, 'voice.wav'), '-r', String(MEDIA_SAMPLE_RATE), '-c', '1', '-b', '16', output], 60_000);
      if (resampled.code !== 0) throw new TtsError(`sox failed: ${resampled.stderr.trim() || `exit code ${resampled.code}`}`);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
}

export interface SpokenPrompt {
  /** The media file, absolute. */
  file: string;
  durationMs: number;
  /** Whether it came from the cache (no synthesis of its own). */
  cached: boolean;
  /** Where it came from: a synthesis of its own, the cache on disk, or a synthesis of the same text already under way. */
  source: 'synthesis' | 'disk' | 'in_flight';
}

/**
 * A prompt is synthesised once per text, voice and language: the audio is kept under `dir`, named by a
 * hash of the four, and written under a temporary name then renamed, so a reader never sees half a file.
 * Two requests for the same text at once share one synthesis.
 */
export class TtsCache {
  private readonly inFlight = new Map<string, Promise<SpokenPrompt>>();
  private hits = 0;
  private misses = 0;

  private readonly engine: TtsEngine;
  readonly dir: string;
  constructor(engine: TtsEngine, dir: string) {
    this.engine = engine;
    this.dir = dir;
  }

  keyOf(text: string, language: IvrLanguage): string {
    const voice = this.engine.voiceFor(language);
    return createHash('sha256').update(JSON.stringify([this.engine.id, voice, language, text])).digest('hex');
  }

  fileOf(text: string, language: IvrLanguage): string {
    return path.join(this.dir, `${this.keyOf(text, language)}.wav`);
  }

  async speak(text: string, language: IvrLanguage): Promise<SpokenPrompt> {
    const key = this.keyOf(text, language);
    const file = path.join(this.dir, `${key}.wav`);
    if (fs.existsSync(file)) {
      this.hits++;
      return { file, durationMs: wavDurationMs(file), cached: true, source: 'disk' };
    }
    const pending = this.inFlight.get(key);
    if (pending) {
      this.hits++;
      return { ...(await pending), cached: true, source: 'in_flight' };
    }
    this.misses++;
    const work = (async () => {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${randomUUID()}.tmp.wav`;
      try {
        await this.engine.synthesize(text, this.engine.voiceFor(language), tmp);
        const durationMs = wavDurationMs(tmp);
        if (durationMs <= 0) throw new TtsError('the voice produced no audio');
        fs.renameSync(tmp, file);
        return { file, durationMs, cached: false, source: 'synthesis' as const };
      } finally {
        fs.rmSync(tmp, { force: true });
      }
    })();
    this.inFlight.set(key, work);
    try {
      return await work;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Syntheses served from the cache and made, since this cache was created (BENCHMARKS.md's hit rate). */
  stats(): { hits: number; misses: number } {
    return { hits: this.hits, misses: this.misses };
  }
}
