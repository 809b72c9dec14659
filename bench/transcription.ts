/**
 * Transcription accuracy and speed of the default engine (pocketsphinx, or
 * whisper.cpp when WHISPER_MODEL_PATH is set) on the spoken samples of
 * Debian's pocketsphinx-testdata and on espeak-ng voicemails in WAV, MP3 and
 * OGG/Opus. Each file goes through the worker's own path: ffmpeg decode, then
 * the engine. Prints word error rate (WER) per set and real-time factor (RTF:
 * processing time / audio duration; decode + recognition, one file at a time).
 * Each file is run RUNS times (default 3) and its median time is kept: the
 * machine is shared, and a stall of another process's making would otherwise
 * decide the figure; the slowest run is printed too.
 *
 *   npx node bench/transcription.ts [runs]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@carillon/config';
import { decodeToEngineWav, ffmpegPath } from '../workers/src/transcription/audio.ts';
import { selectTranscriptionEngine } from '../workers/src/transcription/select-engine.ts';
import { wordErrors } from '../workers/src/transcription/wer.ts';
import { espeakVoicemails, testdataSamples, type SpeechSample } from '../workers/test/speech-samples.ts';

const config = loadConfig();
const ffmpeg = ffmpegPath(config.FFMPEG_PATH);
const engine = selectTranscriptionEngine(config);
const RUNS = Math.max(1, Math.min(9, Number(process.argv[2] ?? 3)));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-bench-transcription-'));

try {
  const samples: SpeechSample[] = [...testdataSamples(), ...espeakVoicemails(path.join(work, 'voicemails'), ffmpeg)];
  const sets = new Map<string, { errors: number; words: number; audioMs: number; processingMs: number; files: number }>();
  console.log(`engine: ${engine.name}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}`);
  let slowest = 0;
  let failedRuns = 0;
  for (const s of samples) {
    const times: number[] = [];
    let wav: Awaited<ReturnType<typeof decodeToEngineWav>> | undefined;
    let transcript: Awaited<ReturnType<typeof engine.transcribe>> | undefined;
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      try {
        wav = await decodeToEngineWav(s.file, path.join(work, 'decoded.wav'), { ffmpeg, maxSeconds: 900 });
        transcript = await engine.transcribe(wav.path, 'en');
        times.push(performance.now() - started);
      } catch (err) {
        // In the worker this is a retried job; here it is counted and printed.
        failedRuns++;
        console.log(`  ${s.set}/${s.name}: run ${run + 1} failed after ${Math.round(performance.now() - started)} ms: ${(err as Error).message}`);
      }
    }
    if (!wav || !transcript) throw new Error('no run');
    times.sort((x, y) => x - y);
    const processingMs = times[Math.floor(times.length / 2)]!;
    slowest = Math.max(slowest, times.at(-1)! / wav.durationMs);
    const e = wordErrors(s.reference, transcript.text);
    const agg = sets.get(s.set) ?? { errors: 0, words: 0, audioMs: 0, processingMs: 0, files: 0 };
    agg.errors += e.errors;
    agg.words += e.words;
    agg.audioMs += wav.durationMs;
    agg.processingMs += processingMs;
    agg.files += 1;
    sets.set(s.set, agg);
    console.log(`  ${s.set}/${s.name}: WER ${(e.errors / e.words).toFixed(2)}, RTF ${(processingMs / wav.durationMs).toFixed(2)}\n    ref: ${s.reference}\n    hyp: ${transcript.text}`);
  }
  console.log('\n| set | files | audio | reference words | WER | RTF |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  const total = { errors: 0, words: 0, audioMs: 0, processingMs: 0, files: 0 };
  for (const [name, a] of sets) {
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += a[k];
    console.log(`| ${name} | ${a.files} | ${(a.audioMs / 1000).toFixed(1)} s | ${a.words} | ${((a.errors / a.words) * 100).toFixed(1)} % | ${(a.processingMs / a.audioMs).toFixed(2)} |`);
  }
  console.log(`| all | ${total.files} | ${(total.audioMs / 1000).toFixed(1)} s | ${total.words} | ${((total.errors / total.words) * 100).toFixed(1)} % | ${(total.processingMs / total.audioMs).toFixed(2)} |`);
  const rtf = total.processingMs / total.audioMs;
  console.log(`\nreal-time factor ${rtf.toFixed(2)} (median of ${RUNS} runs per file; target < 0.5): ${rtf < 0.5 ? 'met' : 'NOT met'}`);
  console.log(`slowest single run: RTF ${slowest.toFixed(2)}; runs that failed: ${failedRuns}`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
