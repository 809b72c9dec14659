/**
 * Real documents and fax checks for the fax tests and benchmark: inputs made
 * by ghostscript from PostScript written here, results read back with
 * Debian's tiffinfo, pdfinfo and pdftoppm.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Db } from '@carillon/db';
import type { SeededAccount } from './recording-export-support.ts';

const run = promisify(execFile);

/** PostScript of `pages` pages, each with a big page number and a few lines of text. */
export function pagesPostScript(pages: number, title = 'Document'): string {
  let ps = '%!PS\n';
  for (let p = 1; p <= pages; p++) {
    ps += `/Helvetica-Bold findfont 48 scalefont setfont 72 650 moveto (${title} page ${p}) show\n`;
    ps += '/Helvetica findfont 14 scalefont setfont\n';
    for (let l = 0; l < 20; l++) ps += `72 ${600 - l * 20} moveto (Line ${l + 1} of page ${p}: the quick brown fox jumps over the lazy dog.) show\n`;
    ps += 'showpage\n';
  }
  return ps;
}

/**
 * A PDF that takes ghostscript long to render: every page draws the same
 * content stream of `shapes` small rectangles (written once, shared by all
 * pages, so the file stays small and is made at once).
 */
export async function makeSlowPdf(file: string, pages: number, shapes = 40_000): Promise<void> {
  let content = '';
  for (let i = 0; i < shapes; i++) content += `${(i * 37) % 600} ${(i * 53) % 780} ${1 + (i % 9)} ${1 + (i % 7)} re f\n`;
  const objects: string[] = [];
  objects[1] = '<< /Type /Catalog /Pages 2 0 R >>';
  const kids = Array.from({ length: pages }, (_, i) => `${4 + i} 0 R`).join(' ');
  objects[2] = `<< /Type /Pages /Kids [${kids}] /Count ${pages} >>`;
  objects[3] = `<< /Length ${content.length} >>\nstream\n${content}endstream`;
  for (let i = 0; i < pages; i++) objects[4 + i] = '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>';
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  for (let n = 1; n < objects.length; n++) {
    offsets[n] = pdf.length;
    pdf += `${n} 0 obj\n${objects[n]}\nendobj\n`;
  }
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length}\n0000000000 65535 f \n`;
  for (let n = 1; n < objects.length; n++) pdf += `${String(offsets[n]).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await fs.promises.writeFile(file, pdf, 'latin1');
}

async function ghostscript(device: string, output: string, ps: string, extra: string[] = []): Promise<void> {
  await fs.promises.mkdir(path.dirname(output), { recursive: true });
  const source = `${output}.ps`;
  await fs.promises.writeFile(source, ps);
  await run('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', `-sDEVICE=${device}`, '-sPAPERSIZE=letter', ...extra, `-sOutputFile=${output}`, source]);
  await fs.promises.rm(source);
}

export const makePdf = (file: string, pages: number, title?: string) => ghostscript('pdfwrite', file, pagesPostScript(pages, title));
export const makePng = (file: string) => ghostscript('pnggray', file, pagesPostScript(1, 'Picture'), ['-r100']);
export const makeJpeg = (file: string) => ghostscript('jpeggray', file, pagesPostScript(1, 'Photo'), ['-r100']);
/** A multi-page colour TIFF (uncompressed RGB): not fax format, so it must be converted. */
export const makeTiff = (file: string, pages: number) => ghostscript('tiff24nc', file, pagesPostScript(pages, 'Scan'), ['-r72']);

export interface TiffInfoPage {
  width: number;
  length: number;
  xres: number;
  yres: number;
  compression: string;
}

/** Every page of a TIFF as Debian's tiffinfo reports it. */
export async function tiffInfo(file: string): Promise<TiffInfoPage[]> {
  const { stdout } = await run('tiffinfo', [file]);
  return stdout
    .split(/TIFF Directory at offset/)
    .slice(1)
    .map((dir) => {
      const size = /Image Width: (\d+) Image Length: (\d+)/.exec(dir);
      const res = /Resolution: ([\d.]+), ([\d.]+)/.exec(dir);
      return {
        width: Number(size?.[1]),
        length: Number(size?.[2]),
        xres: Number(res?.[1]),
        yres: Number(res?.[2]),
        compression: /Compression Scheme: (.+)/.exec(dir)?.[1]?.trim() ?? '',
      };
    });
}

export async function pdfPages(file: string): Promise<number> {
  const { stdout } = await run('pdfinfo', [file]);
  return Number(/^Pages:\s+(\d+)/m.exec(stdout)?.[1]);
}

/** Share of dark pixels on one page of a PDF (pdftoppm, grey, 30 dpi): a blank page is 0. */
export async function darkShare(pdf: string, page: number): Promise<number> {
  const { stdout } = await run('pdftoppm', ['-gray', '-r', '30', '-f', String(page), '-l', String(page), pdf], { encoding: 'buffer', maxBuffer: 50 * 1024 * 1024 });
  // PGM: "P5\n<w> <h>\n255\n" then one byte per pixel.
  const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(stdout.subarray(0, 50).toString('latin1'));
  if (!header) throw new Error('pdftoppm did not write a PGM');
  const pixels = stdout.subarray(header[0].length);
  let dark = 0;
  for (const v of pixels) if (v < 128) dark++;
  return dark / pixels.length;
}

/** A number of the account, assigned to an extension (or to none). */
export async function addNumber(db: Db, a: SeededAccount, e164: string, extensionId: string | null): Promise<void> {
  await db.insertInto('phone_numbers').values({ account_id: a.accountId, e164, type: extensionId ? 'direct' : 'additional_company', extension_id: extensionId, fax_capable: true }).execute();
}
