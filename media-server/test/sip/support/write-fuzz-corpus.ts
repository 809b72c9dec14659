/**
 * Rewrites test/sip/fuzz-corpus/ from the generator, so that the committed
 * files are what the replay test sends:
 *   npx node media-server/test/sip/support/write-fuzz-corpus.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateFuzzCorpus } from './fuzz-corpus.ts';

export const FUZZ_CORPUS_DIR = path.join(import.meta.dirname, '..', 'fuzz-corpus');

if (import.meta.main) {
  for (const file of fs.readdirSync(FUZZ_CORPUS_DIR))
    if (file.endsWith('.sip')) fs.rmSync(path.join(FUZZ_CORPUS_DIR, file));
  const corpus = generateFuzzCorpus();
  for (const c of corpus) fs.writeFileSync(path.join(FUZZ_CORPUS_DIR, c.name), c.data);
  const bytes = corpus.reduce((n, c) => n + c.data.length, 0);
  console.log(`${corpus.length} cases, ${bytes} bytes in ${FUZZ_CORPUS_DIR}`);
}
