import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * What a fax attachment is, and how many pages a PDF has: shared by the app,
 * which refuses an oversized fax before queuing it, and the render worker.
 */
export type AttachmentKind = 'pdf' | 'png' | 'jpeg' | 'tiff' | 'text' | 'office';

const OFFICE_EXTENSIONS = new Set(['.doc', '.docx', '.odt', '.rtf', '.xls', '.xlsx', '.ods', '.csv', '.ppt', '.pptx', '.odp']);

/**
 * What an attachment is, from its first bytes (the name only decides for
 * office documents, whose containers, ZIP and OLE, say nothing of the
 * content). Null: not a format faxes accept.
 */
export function detectAttachmentKind(head: Buffer, fileName: string): AttachmentKind | null {
  const ext = path.extname(fileName).toLowerCase();
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return 'pdf';
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  const tiffMagic = head.subarray(0, 4).toString('latin1');
  if (tiffMagic === 'II*\0' || tiffMagic === 'MM\0*') return 'tiff';
  if (OFFICE_EXTENSIONS.has(ext)) return 'office';
  if ((ext === '.txt' || ext === '' || ext === '.text') && looksLikeText(head)) return 'text';
  return null;
}

function looksLikeText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, Math.max(0, head.length - 4)));
    return true;
  } catch {
    return false;
  }
}

/** The page count in pdfinfo's output; null when it names none (not a PDF, or no pages). */
export function pdfinfoPages(pdfinfoOutput: string): number | null {
  const pages = Number(/^Pages:\s+(\d+)/m.exec(pdfinfoOutput)?.[1] ?? NaN);
  return Number.isInteger(pages) && pages >= 1 ? pages : null;
}

/**
 * Pages of a stored PDF by pdfinfo, or null when pdfinfo cannot read it: the
 * render then gives the reason to the user, so this quick count never fails a fax.
 */
export async function countPdfPages(file: string): Promise<number | null> {
  try {
    const { stdout } = await promisify(execFile)('pdfinfo', [file], { timeout: 30_000 });
    return pdfinfoPages(stdout);
  } catch {
    return null;
  }
}
