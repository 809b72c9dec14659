import fs from 'node:fs';
import path from 'node:path';
import { FaxAttachmentError, runTool } from './fax-tools.ts';
import { coverPagePostScript, type CoverPageFields } from './postscript.ts';
import { ghostscriptToFax, renderAttachment, type FaxRenderOptions } from './render-attachment.ts';
import { readTiffPages } from './tiff-pages.ts';

export interface FaxAttachmentInput {
  /** As the sender named it; decides only for office documents, and is shown with any error. */
  name: string;
  path: string;
}

export interface AttachmentOutcome {
  pages: number | null;
  error: string | null;
}

export interface RenderFaxRequest extends FaxRenderOptions {
  attachments: FaxAttachmentInput[];
  /** Null: no cover page (the seed's "Cover page: None"). `pageCount` is filled in here. */
  cover: Omit<CoverPageFields, 'pageCount'> | null;
  /** Scratch directory, emptied by the caller. */
  workDir: string;
  /** The fax, TIFF-F: every page, cover first. */
  tiffPath: string;
  /** The same pages as one PDF, for inboxes and previews. */
  pdfPath: string;
  /** Most pages the whole fax may have, cover included (FAX_MAX_PAGES); an attachment beyond it is refused. */
  maxPages: number;
  /** Called after each attachment; a slow callback slows the render (tests use it to catch a render in flight). */
  onAttachment?: (done: number, total: number) => Promise<void>;
}

export interface RenderFaxResult {
  /** Pages of the fax, the cover included; 0 when nothing could be rendered (and no file is written). */
  pages: number;
  attachments: AttachmentOutcome[];
}

/**
 * Renders a whole fax. An attachment that can't be rendered is left out with
 * its reason and the others go on; the caller decides what a fax with no
 * rendered attachment means.
 */
export async function renderFax(req: RenderFaxRequest): Promise<RenderFaxResult> {
  const options: FaxRenderOptions = { resolution: req.resolution, paper: req.paper, compression: req.compression };
  const outcomes: AttachmentOutcome[] = [];
  const parts: string[] = [];
  let attachmentPages = 0;
  const coverPages = req.cover ? 1 : 0;
  for (const [i, attachment] of req.attachments.entries()) {
    const out = path.join(req.workDir, `attachment-${i}.tif`);
    try {
      const pages = await renderAttachment(attachment.path, attachment.name, out, req.workDir, options, { max: req.maxPages, used: coverPages + attachmentPages });
      outcomes.push({ pages, error: null });
      parts.push(out);
      attachmentPages += pages;
    } catch (err) {
      if (!(err instanceof FaxAttachmentError)) throw err;
      outcomes.push({ pages: null, error: err.message });
    }
    await req.onAttachment?.(i + 1, req.attachments.length);
  }
  if (parts.length === 0) return { pages: 0, attachments: outcomes };

  if (req.cover) {
    const cover = path.join(req.workDir, 'cover.tif');
    const ps = path.join(req.workDir, 'cover.ps');
    await fs.promises.writeFile(ps, coverPagePostScript({ ...req.cover, pageCount: attachmentPages + 1 }, req.paper), 'latin1');
    await ghostscriptToFax(ps, cover, options, [req.workDir]);
    parts.unshift(cover);
  }
  await runTool('tiffcp', ['-c', req.compression, ...parts, req.tiffPath], [req.workDir, req.tiffPath]);
  await runTool('tiff2pdf', ['-o', req.pdfPath, req.tiffPath], [req.tiffPath, req.pdfPath]);
  const pages = (await readTiffPages(req.tiffPath)).length;
  return { pages, attachments: outcomes };
}
