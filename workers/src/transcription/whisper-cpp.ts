import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runProgram } from '../tools/run-program.ts';
import { meanConfidence, type TranscriptionEngine, type TranscriptWord } from './engine.ts';

interface WhisperJson {
  transcription?: {
    offsets?: { from: number; to: number };
    text?: string;
    tokens?: { text: string; p?: number }[];
  }[];
}

/**
 * whisper.cpp through its command-line program (`whisper-cli`, `WHISPER_CPP_PATH`)
 * with a ggml model file (`WHISPER_MODEL_PATH`). Used instead of pocketsphinx
 * when a model is configured. No Node binding of whisper.cpp installs here
 * without downloading a build, and no model can be fetched on this machine,
 * so this engine is UNTESTED: it follows whisper.cpp's documented
 * `--output-json-full` format, with one segment per word (`-ml 1 -sow`).
 */
export function whisperCppEngine(options: { modelPath: string; binary: string; threads?: number }): TranscriptionEngine {
  return {
    name: 'whisper.cpp',
    // Trained on all kinds of audio, telephone calls included.
    widebandOnly: false,
    // Multilingual ggml models cover both of the product's languages; an English-only
    // model (*.en.bin) does not.
    checkLanguage(language) {
      if (/\.en\.bin$/.test(options.modelPath) && language !== 'en') {
        throw new Error(`the whisper model ${path.basename(options.modelPath)} is English-only; language "${language}" needs a multilingual model`);
      }
    },
    async transcribe(wavPath, language) {
      this.checkLanguage(language);
      const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-whisper-'));
      try {
        const base = path.join(outDir, 'out');
        const durationS = Math.max(fs.statSync(wavPath).size - 44, 0) / 2 / 16_000;
        const result = await runProgram(
          options.binary,
          ['-m', options.modelPath, '-f', wavPath, '-l', language, '-t', String(options.threads ?? Math.max(os.availableParallelism() - 1, 1)),
            '-ml', '1', '-sow', '-ojf', '-of', base, '-np'],
          Math.max(120_000, durationS * 20_000),
        );
        if (result.code !== 0) throw new Error(`whisper.cpp failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-2).join(' ')}`);
        const parsed = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8')) as WhisperJson;
        const words: TranscriptWord[] = [];
        for (const seg of parsed.transcription ?? []) {
          const word = (seg.text ?? '').trim();
          if (!word || /^\[.*\]$/.test(word)) continue;
          const probs = (seg.tokens ?? []).filter((t) => !/^\[_.*\]$/.test(t.text) && typeof t.p === 'number').map((t) => t.p!);
          words.push({
            word,
            startMs: seg.offsets?.from ?? 0,
            endMs: seg.offsets?.to ?? 0,
            confidence: probs.length ? probs.reduce((a, b) => a + b, 0) / probs.length : 0,
          });
        }
        return { text: words.map((w) => w.word).join(' '), words, confidence: meanConfidence(words) };
      } finally {
        fs.rmSync(outDir, { recursive: true, force: true });
      }
    },
  };
}
