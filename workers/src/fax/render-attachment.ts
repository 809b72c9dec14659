import fs from 'node:fs';
import path from 'node:path';
import { detectAttachmentKind, pdfinfoPages, type AttachmentKind } from '@carillon/core/fax';
import { FaxAttachmentError, findOnPath, runTool, systemPython } from './fax-tools.ts';
import { textDocumentPostScript, type PaperSize } from './postscript.ts';
import { readTiffPages } from './tiff-pages.ts';

/** ITU-T T.4: every fax line is 1728 pixels, whatever the paper. */
export const FAX_WIDTH_PIXELS = 1728;
export type FaxResolution = 'fine' | 'standard';
export type FaxCompression = 'g4' | 'g3';
/** Vertical dots per inch; horizontally it is always 204. */
export const FAX_VERTICAL_DPI: Record<FaxResolution, number> = { fine: 196, standard: 98 };

export interface FaxRenderOptions {
  resolution: FaxResolution;
  paper: PaperSize;
  compression: FaxCompression;
}

export { detectAttachmentKind, type AttachmentKind };

export const SUPPORTED_FORMATS_TEXT = 'PDF, PNG, JPEG, TIFF, plain text, and office documents where LibreOffice is installed';

/**
 * Renders one attachment to a multi-page fax TIFF at `output` and returns its
 * page count. Throws FaxAttachmentError, with a reason fit for the user, when
 * this attachment can't be faxed; any other error concerns the whole job.
 */
export async function renderAttachment(
  input: string,
  fileName: string,
  output: string,
  workDir: string,
  options: FaxRenderOptions,
  /** The fax's page limit (FAX_MAX_PAGES) and its pages before this attachment; beyond it, refused (before rendering when the count is known). */
  pageLimit: { max: number; used: number } = { max: Number.POSITIVE_INFINITY, used: 0 },
): Promise<number> {
  const handle = await fs.promises.open(input, 'r').catch(() => null);
  if (!handle) throw new FaxAttachmentError('the uploaded file is missing');
  const head = Buffer.alloc(512);
  const { bytesRead } = await handle.read(head, 0, head.length, 0);
  await handle.close();
  if (bytesRead === 0) throw new FaxAttachmentError('the file is empty');
  const kind = detectAttachmentKind(head.subarray(0, bytesRead), fileName);
  if (!kind) throw new FaxAttachmentError(`format not supported (accepted: ${SUPPORTED_FORMATS_TEXT})`);
  const hide = [input, output, workDir];
  const base = path.join(workDir, path.basename(output, '.tif'));

  let source = input;
  let expectedPages: number | null = null;
  switch (kind) {
    case 'pdf':
      expectedPages = await pdfPageCount(input, hide);
      break;
    case 'text': {
      const text = await fs.promises.readFile(input, 'utf8');
      source = `${base}.ps`;
      await fs.promises.writeFile(source, textDocumentPostScript(text, options.paper), 'latin1');
      break;
    }
    case 'png':
    case 'jpeg':
    case 'tiff':
      source = `${base}.pdf`;
      await imageToPdf(input, source, kind, hide);
      expectedPages = await pdfPageCount(source, hide);
      break;
    case 'office':
      source = await officeToPdf(input, fileName, workDir, hide);
      expectedPages = await pdfPageCount(source, hide);
      break;
  }
  if (expectedPages !== null && pageLimit.used + expectedPages > pageLimit.max) throw tooManyPages(expectedPages, pageLimit);
  await ghostscriptToFax(source, output, options, hide);
  const pages = await readTiffPages(output).catch(() => []);
  if (pageLimit.used + pages.length > pageLimit.max) throw tooManyPages(pages.length, pageLimit);
  if (pages.length === 0) throw new FaxAttachmentError('the document has no page that could be rendered');
  if (expectedPages !== null && pages.length !== expectedPages) {
    throw new FaxAttachmentError(`only ${pages.length} of its ${expectedPages} pages could be rendered`);
  }
  return pages.length;
}

/** Renders a PDF or PostScript file to fax pages: fitted to the paper, 1728 pixels wide. */
export async function ghostscriptToFax(source: string, output: string, options: FaxRenderOptions, hide: string[] = []): Promise<void> {
  await runTool(
    'gs',
    [
      '-q',
      '-dNOPAUSE',
      '-dBATCH',
      '-dSAFER',
      // A damaged PDF fails here instead of quietly losing pages.
      '-dPDFSTOPONERROR',
      `-sDEVICE=${options.compression === 'g3' ? 'tiffg3' : 'tiffg4'}`,
      `-r204x${FAX_VERTICAL_DPI[options.resolution]}`,
      '-dFIXEDMEDIA',
      `-sPAPERSIZE=${options.paper}`,
      '-dPDFFitPage',
      // Letter at 204 dpi is 1734 pixels: ghostscript scales each line to the T.4 width.
      `-dAdjustWidth=${FAX_WIDTH_PIXELS}`,
      `-sOutputFile=${output}`,
      source,
    ],
    hide,
  );
}

function tooManyPages(pages: number, limit: { max: number; used: number }): FaxAttachmentError {
  return new FaxAttachmentError(`too many pages: with this document (${pages} pages) the fax would have ${limit.used + pages}, and at most ${limit.max} are allowed`);
}

/** Pages of a PDF, from pdfinfo; throws FaxAttachmentError when it is not a readable PDF. */
export async function pdfPageCount(file: string, hide: string[] = []): Promise<number> {
  let info: string;
  try {
    info = (await runTool('pdfinfo', [file], hide)).stdout;
  } catch (err) {
    if (err instanceof FaxAttachmentError) {
      throw new FaxAttachmentError(`the PDF is damaged or not a PDF (${err.message.replace(/^pdfinfo failed \([^)]*\):? ?/, '') || 'unreadable'})`);
    }
    throw err;
  }
  const pages = pdfinfoPages(info);
  if (pages === null) throw new FaxAttachmentError('the PDF has no pages');
  return pages;
}

// Every frame (a TIFF may have many) flattened on white, in grey: faxes are black and white.
const IMAGE_TO_PDF = `
import sys
from PIL import Image, ImageSequence
src, dst = sys.argv[1], sys.argv[2]
try:
    im = Image.open(src)
    pages = []
    for frame in ImageSequence.Iterator(im):
        f = frame.convert('RGBA')
        bg = Image.new('RGBA', f.size, (255, 255, 255, 255))
        bg.alpha_composite(f)
        pages.append(bg.convert('L'))
    dpi = im.info.get('dpi') or (200, 200)
    pages[0].save(dst, 'PDF', save_all=True, append_images=pages[1:], resolution=float(dpi[0]) or 200.0)
except Exception as e:
    print(str(e), file=sys.stderr)
    sys.exit(2)
`;

async function imageToPdf(input: string, output: string, kind: AttachmentKind, hide: string[]): Promise<void> {
  try {
    await runTool(systemPython(), ['-c', IMAGE_TO_PDF, input, output], hide);
  } catch (err) {
    if (err instanceof FaxAttachmentError) {
      throw new FaxAttachmentError(`the ${kind.toUpperCase()} image is damaged or unreadable (${err.message.replace(/^\S+ failed \([^)]*\):? ?/, '')})`);
    }
    throw err;
  }
}

async function officeToPdf(input: string, fileName: string, workDir: string, hide: string[]): Promise<string> {
  const office = findOnPath('libreoffice') ?? findOnPath('soffice');
  if (!office) {
    throw new FaxAttachmentError(
      `format not supported: ${path.extname(fileName) || 'office'} documents need LibreOffice, which is not installed on this server (accepted: ${SUPPORTED_FORMATS_TEXT})`,
    );
  }
  // LibreOffice names its output after the input and keeps the extension it was given, so give it a copy with the real one.
  const officeDir = path.join(workDir, 'office');
  await fs.promises.mkdir(officeDir, { recursive: true });
  const copy = path.join(officeDir, `document${path.extname(fileName).toLowerCase()}`);
  await fs.promises.copyFile(input, copy);
  await runTool(
    office,
    ['--headless', `-env:UserInstallation=file://${path.join(officeDir, 'profile')}`, '--convert-to', 'pdf', '--outdir', officeDir, copy],
    [...hide, copy],
  );
  const pdf = path.join(officeDir, 'document.pdf');
  if (!fs.existsSync(pdf)) throw new FaxAttachmentError('LibreOffice could not convert the document');
  return pdf;
}
