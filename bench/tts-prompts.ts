/**
 * TTS prompts (issue 14, PR-06): time to synthesise a prompt with the default engine (espeak-ng, then
 * SoX to 8 kHz mono: what `TtsCache` does on a miss), time to serve it again from the cache, and the
 * cache hit rate of a realistic mix: TEXTS distinct menu prompts in English and French, each asked
 * REPEATS times (a menu saved again, the same greeting used by several menus, every call of a menu),
 * in a shuffled order, two requests at a time. A prompt must be synthesised once per text, voice and
 * language: the hit rate is (asked − distinct) / asked when the cache works.
 *
 *   npx node bench/tts-prompts.ts [texts] [repeats]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EspeakTtsEngine, TtsCache } from '@carillon/core/ivr';
import type { IvrLanguage } from '@carillon/domain';

const TEXTS = Math.max(2, Math.min(100, Number(process.argv[2] ?? 20)));
const REPEATS = Math.max(1, Math.min(50, Number(process.argv[3] ?? 5)));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-bench-tts-'));

const en = (i: number) => `Thank you for calling department ${i}. For sales, press 1. For support, press 2. For the directory, press 9.`;
const fr = (i: number) => `Merci d'avoir appelé le service ${i}. Pour les ventes, appuyez sur le 1. Pour le support, appuyez sur le 2.`;
const distinct: { text: string; language: IvrLanguage }[] = Array.from({ length: TEXTS }, (_, i) => (i % 2 ? { text: fr(i), language: 'fr' } : { text: en(i), language: 'en' }));
// A fixed shuffle (a small LCG), so that runs compare.
let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const asked = distinct.flatMap((p) => Array.from({ length: REPEATS }, () => p)).sort(() => rand() - 0.5);

const cache = new TtsCache(new EspeakTtsEngine(), dir);
const misses: number[] = [];
const hits: number[] = [];
const joined: number[] = [];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

try {
  let next = 0;
  const worker = async () => {
    while (next < asked.length) {
      const p = asked[next++]!;
      const started = performance.now();
      const spoken = await cache.speak(p.text, p.language);
      (spoken.source === 'synthesis' ? misses : spoken.source === 'disk' ? hits : joined).push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all([worker(), worker()]);
  const total = performance.now() - started;
  const stats = cache.stats();
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.wav')).length;
  console.log(`${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, load ${os.loadavg()[0]!.toFixed(1)}`);
  console.log(`asked ${asked.length} (${TEXTS} distinct texts × ${REPEATS}), two at a time, in ${(total / 1000).toFixed(1)} s`);
  console.log(`synthesised ${stats.misses} (files in the cache: ${files}), served from the cache ${stats.hits}: hit rate ${((100 * stats.hits) / asked.length).toFixed(1)} % (best possible ${((100 * (asked.length - TEXTS)) / asked.length).toFixed(1)} %)`);
  console.log(`synthesis (espeak-ng + SoX): p50 ${pct(misses, 50).toFixed(0)} ms, p95 ${pct(misses, 95).toFixed(0)} ms, max ${Math.max(...misses).toFixed(0)} ms`);
  console.log(`cache hit from disk (${hits.length}): p50 ${pct(hits, 50).toFixed(2)} ms, p95 ${pct(hits, 95).toFixed(2)} ms`);
  if (joined.length) console.log(`joined a synthesis of the same text under way (${joined.length}): p50 ${pct(joined, 50).toFixed(0)} ms`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
