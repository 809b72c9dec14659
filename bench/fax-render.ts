/**
 * Fax rendering speed (issue 6: "rendering a 10-page PDF to TIFF-F takes
 * under 2 s"). Times the worker's own render (workers/src/fax/render-fax.ts:
 * pdfinfo, ghostscript to G4 TIFF, tiffcp, tiff2pdf for the inbox/preview
 * PDF) on a 10-page PDF, with and without a cover page, at fine and standard
 * resolution. Two documents: text drawn as vectors (a typical office PDF)
 * and the same pages as 150 dpi greyscale scans (raster, heavier).
 *
 *   npx node bench/fax-render.ts [runs, default 5]
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { renderFax } from '../workers/src/fax/render-fax.ts';
import { makePdf, makeTiff, tiffInfo } from '../workers/test/fax-support.ts';

const run = promisify(execFile);
const runs = Math.max(1, Number(process.argv[2] ?? 5));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-bench-fax-'));

const vector = path.join(dir, 'vector.pdf');
await makePdf(vector, 10);
const scanTiff = path.join(dir, 'scan.tif');
await makeTiff(scanTiff, 10);
const raster = path.join(dir, 'raster.pdf');
// Grey scans at 150 dpi, as a scanner's PDF would hold them.
await run('/usr/bin/python3', [
  '-c',
  `import sys
from PIL import Image, ImageSequence
im = Image.open(sys.argv[1])
pages = [f.convert('L').resize((1275, 1650)) for f in ImageSequence.Iterator(im)]
pages[0].save(sys.argv[2], 'PDF', save_all=True, append_images=pages[1:], resolution=150.0)`,
  scanTiff,
  raster,
]);

const { stdout: gsVersion } = await run('gs', ['--version']);
console.log(`${os.cpus().length} cores (${os.cpus()[0]?.model}); ghostscript ${gsVersion.trim()}; node ${process.version}; ${runs} runs each, median (min–max)`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
let n = 0;
for (const [label, pdf] of [['vector text', vector], ['150 dpi scans', raster]] as const) {
  for (const resolution of ['fine', 'standard'] as const) {
    for (const cover of [false, true]) {
      const times: number[] = [];
      let pages = 0;
      let bytes = 0;
      for (let i = 0; i < runs; i++) {
        const out = path.join(dir, `run-${++n}`);
        fs.mkdirSync(path.join(out, 'work'), { recursive: true });
        const started = performance.now();
        const result = await renderFax({
          attachments: [{ name: 'ten.pdf', path: pdf }],
          cover: cover ? { template: 'contempo', info: { company: 'Bench Ltd' }, fromName: 'Bench', fromNumber: '+18575550100', to: 'Someone', subject: 'Ten pages', message: 'Benchmark', date: '2026-11-21 14:00 UTC' } : null,
          resolution,
          paper: 'letter',
          compression: 'g4',
          maxPages: 200,
          workDir: path.join(out, 'work'),
          tiffPath: path.join(out, 'fax.tif'),
          pdfPath: path.join(out, 'fax.pdf'),
        });
        times.push(performance.now() - started);
        pages = result.pages;
        bytes = fs.statSync(path.join(out, 'fax.tif')).size;
        const info = await tiffInfo(path.join(out, 'fax.tif'));
        if (info.length !== pages || info.some((p) => p.width !== 1728)) throw new Error('the render is not 1728-pixel TIFF-F');
        fs.rmSync(out, { recursive: true, force: true });
      }
      const s = (ms: number) => (ms / 1000).toFixed(2);
      console.log(
        `${label.padEnd(14)} ${resolution.padEnd(8)} cover ${cover ? 'yes' : 'no '}: ${pages} pages in ${s(median(times))} s (${s(Math.min(...times))}–${s(Math.max(...times))}), ${(median(times) / pages).toFixed(0)} ms/page, TIFF ${(bytes / 1024).toFixed(0)} KB`,
      );
    }
  }
}
fs.rmSync(dir, { recursive: true, force: true });
