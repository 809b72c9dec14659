import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@carillon/config';
import { FAX_COVER_TEMPLATES, type FaxCoverTemplate } from '@carillon/domain';
import { findOnPath } from '../src/fax/fax-tools.ts';
import { renderFax } from '../src/fax/render-fax.ts';
import { coverPagePostScript } from '../src/fax/postscript.ts';
import { detectAttachmentKind } from '../src/fax/render-attachment.ts';
import { darkShare, makeJpeg, makePdf, makePng, makeTiff, pdfPages, tiffInfo } from './fax-support.ts';

fs.mkdirSync(path.join(os.tmpdir(), 'carillon-tests'), { recursive: true });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-tests', 'fax-render-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = promisify(execFile);
let runs = 0;
const COVER_INFO = { company: 'Analytical Engines Ltd', street: '12 St James Square', city: 'London', country: 'United Kingdom', phoneNumber: '+18575550100' };

async function render(
  attachments: { name: string; path: string }[],
  options: { resolution?: 'fine' | 'standard'; paper?: 'letter' | 'a4'; compression?: 'g4' | 'g3'; cover?: false | FaxCoverTemplate; maxPages?: number } = {},
) {
  const out = path.join(dir, `run-${++runs}`);
  const workDir = path.join(out, 'work');
  fs.mkdirSync(workDir, { recursive: true });
  const result = await renderFax({
    attachments,
    cover:
      options.cover === false
        ? null
        : { template: options.cover ?? 'classic', info: COVER_INFO, fromName: 'Ada Lovelace', fromNumber: '+18575550100', to: 'Accounts — Zoë', subject: 'Invoice (March)', message: 'Please find the invoice attached.\nRegards', date: '2026-11-21 14:05 UTC' },
    resolution: options.resolution ?? 'fine',
    paper: options.paper ?? 'letter',
    compression: options.compression ?? 'g4',
    maxPages: options.maxPages ?? loadConfig({}).FAX_MAX_PAGES,
    workDir,
    tiffPath: path.join(out, 'fax.tif'),
    pdfPath: path.join(out, 'fax.pdf'),
  });
  return { ...result, tiff: path.join(out, 'fax.tif'), pdf: path.join(out, 'fax.pdf') };
}

describe('fax rendering to TIFF-F', () => {
  it('renders a 3-page PDF and a cover page as 4 fine G4 pages, 1728 pixels wide, and the same pages as a PDF', async () => {
    const pdf = path.join(dir, 'three.pdf');
    await makePdf(pdf, 3);
    const r = await render([{ name: 'three.pdf', path: pdf }]);
    expect(r.pages).toBe(4);
    expect(r.attachments).toEqual([{ pages: 3, error: null }]);
    const pages = await tiffInfo(r.tiff);
    expect(pages).toHaveLength(4);
    for (const p of pages) expect(p).toMatchObject({ width: 1728, xres: 204, yres: 196, compression: 'CCITT Group 4' });
    // Letter is 11 inches tall: 2156 lines at 196 dpi.
    expect(pages[0]!.length).toBe(2156);
    expect(await pdfPages(r.pdf)).toBe(4);
    // The cover and the document pages carry ink; none came out blank.
    for (let p = 1; p <= 4; p++) expect(await darkShare(r.pdf, p)).toBeGreaterThan(0.005);
  });

  it('prints the cover page in each template with the same fields and the sender\'s Cover Page Info', async () => {
    const pdf = path.join(dir, 'cover-doc.pdf');
    await makePdf(pdf, 1);
    const ink: Record<string, number> = {};
    for (const template of FAX_COVER_TEMPLATES) {
      const fields = { template, info: COVER_INFO, fromName: 'Ada Lovelace', fromNumber: '+18575550100', to: 'Accounts', subject: 'Invoice (March)', message: 'Please find the invoice attached.', date: '2026-11-21 14:05 UTC', pageCount: 2 };
      // What a reader of the page sees, as Ghostscript lays the PostScript out.
      const ps = path.join(dir, `cover-${template}.ps`);
      fs.writeFileSync(ps, coverPagePostScript(fields, 'letter'), 'latin1');
      const { stdout } = await run('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=txtwrite', '-sOutputFile=-', ps]);
      // ISO Latin-1 encoding draws '-' with the minus glyph, which txtwrite reads back as U+2212.
      const text = stdout.replaceAll('\u2212', '-');
      for (const expected of ['Ada Lovelace', 'Accounts', 'Invoice (March)', '2026-11-21 14:05 UTC', 'Analytical Engines Ltd', '12 St James Square', 'United Kingdom', 'Tel. +18575550100', 'Please find the invoice attached.']) {
        expect(text, `${template}: ${expected}`).toContain(expected);
      }
      expect(text.includes('intended only for the recipient'), template).toBe(template === 'confidential');
      const r = await render([{ name: 'cover-doc.pdf', path: pdf }], { cover: template });
      expect(r.pages).toBe(2);
      ink[template] = await darkShare(r.pdf, 1);
    }
    // Contempo's dark band sets it apart; the confidential frame adds ink to the classic layout.
    expect(ink.contempo!).toBeGreaterThan(ink.classic! + 0.05);
    expect(ink.confidential!).toBeGreaterThan(ink.classic!);
  });

  it('renders at standard resolution (204×98) on A4, and with G3 compression', async () => {
    const pdf = path.join(dir, 'one.pdf');
    await makePdf(pdf, 1);
    const standard = await tiffInfo((await render([{ name: 'one.pdf', path: pdf }], { resolution: 'standard', paper: 'a4', cover: false })).tiff);
    expect(standard).toEqual([{ width: 1728, length: 1146, xres: 204, yres: 98, compression: 'CCITT Group 4' }]);
    const g3 = await tiffInfo((await render([{ name: 'one.pdf', path: pdf }], { compression: 'g3', cover: false })).tiff);
    expect(g3).toHaveLength(1);
    expect(g3[0]).toMatchObject({ width: 1728, yres: 196, compression: 'CCITT Group 3' });
  });

  it('renders PNG, JPEG, multi-page TIFF and plain text attachments', async () => {
    const png = path.join(dir, 'picture.png');
    const jpeg = path.join(dir, 'photo.jpg');
    const tiff = path.join(dir, 'scan.tif');
    const text = path.join(dir, 'notes.txt');
    await makePng(png);
    await makeJpeg(jpeg);
    await makeTiff(tiff, 2);
    // 130 lines: more than one page of 10-point Courier; accents and a long line that wraps.
    fs.writeFileSync(text, `Liste de courses — été\n${Array.from({ length: 129 }, (_, i) => `ligne ${i + 1} ${'x'.repeat(i === 5 ? 200 : 10)}`).join('\n')}\n`);
    const r = await render(
      [
        { name: 'picture.png', path: png },
        { name: 'photo.jpg', path: jpeg },
        { name: 'scan.tif', path: tiff },
        { name: 'notes.txt', path: text },
      ],
      { cover: false },
    );
    expect(r.attachments).toEqual([
      { pages: 1, error: null },
      { pages: 1, error: null },
      { pages: 2, error: null },
      { pages: 3, error: null },
    ]);
    expect(r.pages).toBe(7);
    const pages = await tiffInfo(r.tiff);
    expect(pages.every((p) => p.width === 1728 && p.compression === 'CCITT Group 4')).toBe(true);
    // A blank page is 0; the last text page holds only a few lines.
    for (let p = 1; p <= 7; p++) expect(await darkShare(r.pdf, p)).toBeGreaterThan(0.0001);
  });

  it('refuses an attachment beyond the page limit (FAX_MAX_PAGES, 200 by default) before rendering it, and sends the others', async () => {
    const big = path.join(dir, 'two-hundred-and-one.pdf');
    await makePdf(big, 201);
    const small = path.join(dir, 'three.pdf');
    await makePdf(small, 3);
    const started = performance.now();
    const r = await render([{ name: 'big.pdf', path: big }], { cover: false });
    expect(r.pages).toBe(0);
    expect(r.attachments[0]!.error).toBe('too many pages: with this document (201 pages) the fax would have 201, and at most 200 are allowed');
    // Refused from pdfinfo's count: ghostscript never rendered its 201 pages.
    expect(performance.now() - started).toBeLessThan(5000);
    // With a small limit, the cover counts: 1 + 3 fit in 4, a second 3-page PDF does not.
    const limited = await render([{ name: 'a.pdf', path: small }, { name: 'b.pdf', path: small }], { maxPages: 4 });
    expect(limited.attachments[0]).toEqual({ pages: 3, error: null });
    expect(limited.attachments[1]!.error).toBe('too many pages: with this document (3 pages) the fax would have 7, and at most 4 are allowed');
    expect(limited.pages).toBe(4);
  });

  it('fails a corrupt PDF with a clear reason and renders the other attachments', async () => {
    const good = path.join(dir, 'good.pdf');
    await makePdf(good, 2);
    const truncated = path.join(dir, 'truncated.pdf');
    fs.writeFileSync(truncated, fs.readFileSync(good).subarray(0, 1500));
    const garbage = path.join(dir, 'garbage.pdf');
    fs.writeFileSync(garbage, '%PDF-1.4\nthis is not a PDF at all\n');
    const r = await render([
      { name: 'truncated.pdf', path: truncated },
      { name: 'good.pdf', path: good },
      { name: 'garbage.pdf', path: garbage },
    ]);
    expect(r.attachments[0]!.error).toMatch(/^the PDF is damaged or not a PDF \(.+\)$/);
    expect(r.attachments[1]).toEqual({ pages: 2, error: null });
    expect(r.attachments[2]!.error).toMatch(/^the PDF is damaged or not a PDF/);
    // The cover counts only what is sent: itself and the good PDF.
    expect(r.pages).toBe(3);
    expect(await tiffInfo(r.tiff)).toHaveLength(3);
    // No path of the server leaks into a reason the user sees.
    expect(r.attachments[0]!.error).not.toContain(dir);
  });

  it('refuses formats it cannot fax with "format not supported", and office documents without LibreOffice', async () => {
    const zip = path.join(dir, 'archive.zip');
    fs.writeFileSync(zip, Buffer.from('PK\u0003\u0004 not a fax', 'latin1'));
    const docx = path.join(dir, 'letter.docx');
    fs.writeFileSync(docx, Buffer.from('PK\u0003\u0004 word document', 'latin1'));
    const empty = path.join(dir, 'empty.pdf');
    fs.writeFileSync(empty, '');
    const r = await render(
      [
        { name: 'archive.zip', path: zip },
        { name: 'letter.docx', path: docx },
        { name: 'empty.pdf', path: empty },
      ],
      { cover: false },
    );
    expect(r.pages).toBe(0);
    expect(r.attachments[0]!.error).toMatch(/^format not supported \(accepted: PDF, PNG, JPEG, TIFF, plain text/);
    if (findOnPath('libreoffice') ?? findOnPath('soffice')) {
      // Where LibreOffice is installed, this fake .docx is a conversion failure instead.
      expect(r.attachments[1]!.error).toMatch(/^(LibreOffice could not convert the document|(libreoffice|soffice) failed)/);
    } else {
      expect(r.attachments[1]!.error).toMatch(/^format not supported: \.docx documents need LibreOffice, which is not installed/);
    }
    expect(r.attachments[2]!.error).toBe('the file is empty');
    expect(fs.existsSync(r.tiff)).toBe(false);
  });

  it('tells formats from their bytes, not their names', () => {
    expect(detectAttachmentKind(Buffer.from('%PDF-1.7 ...'), 'scan.png')).toBe('pdf');
    expect(detectAttachmentKind(Buffer.from([0xff, 0xd8, 0xff, 0xe0]), 'x.pdf')).toBe('jpeg');
    expect(detectAttachmentKind(Buffer.from('II*\0'), 'x')).toBe('tiff');
    expect(detectAttachmentKind(Buffer.from('hello\n'), 'notes.txt')).toBe('text');
    expect(detectAttachmentKind(Buffer.from([0x00, 0x01, 0x02]), 'notes.txt')).toBeNull();
    expect(detectAttachmentKind(Buffer.from('hello'), 'run.exe')).toBeNull();
  });
});
