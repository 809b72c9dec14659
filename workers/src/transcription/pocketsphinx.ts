import fs from 'node:fs';
import path from 'node:path';
import { runProgram } from '../tools/run-program.ts';
import { meanConfidence, UnsupportedLanguageError, type TranscriptionEngine, type TranscriptWord } from './engine.ts';

/** Where Debian's pocketsphinx-en-us puts the US English model. */
export const DEBIAN_POCKETSPHINX_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

// Debian ships one acoustic model, US English. French would need a model of its own (none in Debian).
const MODEL_LANGUAGES = ['en'] as const;

/** Markers the decoder emits that are not words: sentence bounds, silence, fillers like [NOISE] or ++UH++. */
const NOT_A_WORD = /^(<s>|<\/s>|<sil>|\[.*\]|\+\+.*\+\+)$/;

/**
 * Debian's pocketsphinx 5prealpha, through `pocketsphinx_continuous -time yes`:
 * for each utterance it prints the hypothesis, then one line per word,
 * "word start end posterior", with times from the start of the file.
 * The offline default: no model to download, about 0.3× real time here.
 */
export function pocketsphinxEngine(options: { modelDir?: string; binary?: string } = {}): TranscriptionEngine {
  const modelDir = options.modelDir ?? DEBIAN_POCKETSPHINX_MODEL_DIR;
  const binary = options.binary ?? 'pocketsphinx_continuous';
  return {
    name: 'pocketsphinx',
    widebandOnly: true,
    checkLanguage(language) {
      if (!(MODEL_LANGUAGES as readonly string[]).includes(language)) {
        throw new UnsupportedLanguageError('pocketsphinx', language, MODEL_LANGUAGES);
      }
      if (!fs.existsSync(path.join(modelDir, 'en-us', 'mdef'))) {
        throw new Error(`pocketsphinx model not found in ${modelDir} (Debian package pocketsphinx-en-us)`);
      }
    },
    async transcribe(wavPath, language, onProgress) {
      this.checkLanguage(language);
      const durationS = Math.max(fs.statSync(wavPath).size - 44, 0) / 2 / 16_000;
      let pending = '';
      const result = await runProgram(
        binary,
        [
          '-infile', wavPath,
          '-hmm', path.join(modelDir, 'en-us'),
          '-lm', path.join(modelDir, 'en-us.lm.bin'),
          '-dict', path.join(modelDir, 'cmudict-en-us.dict'),
          '-time', 'yes',
          '-logfn', '/dev/null',
        ],
        // Far above the ~0.3× real time it needs, even on a machine busy with other work,
        // so only a hung decoder is cut.
        Math.max(180_000, durationS * 10_000),
        (chunk) => {
          pending += chunk;
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) {
            const end = line.match(/^<\/s> [0-9.]+ ([0-9.]+) /);
            if (end && durationS > 0) onProgress?.(Math.min(Number(end[1]) / durationS, 1));
          }
        },
      );
      if (result.code !== 0) {
        throw new Error(`pocketsphinx failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-2).join(' ')}`);
      }
      const words = parsePocketsphinxWords(result.stdout);
      return { text: words.map((w) => w.word).join(' '), words, confidence: meanConfidence(words) };
    },
  };
}

/** The word lines of `-time yes` output; "word(2)" is the dictionary's second pronunciation of "word". */
export function parsePocketsphinxWords(stdout: string): TranscriptWord[] {
  const words: TranscriptWord[] = [];
  for (const line of stdout.split('\n')) {
    const m = line.match(/^(\S+) ([0-9]+\.[0-9]+) ([0-9]+\.[0-9]+) ([0-9.]+)$/);
    if (!m) continue;
    const word = m[1]!.replace(/\([0-9]+\)$/, '');
    if (NOT_A_WORD.test(word)) continue;
    words.push({
      word,
      startMs: Math.round(Number(m[2]) * 1000),
      endMs: Math.round(Number(m[3]) * 1000),
      confidence: Math.min(Math.max(Number(m[4]), 0), 1),
    });
  }
  return words;
}
