import fs from 'node:fs';

/** What the fax code needs to know of each page (IFD) of a TIFF file. */
export interface TiffPage {
  width: number;
  length: number;
  /** 3 = CCITT T.4 (G3), 4 = CCITT T.6 (G4), 1 = none, … */
  compression: number;
}

const TAG_WIDTH = 256;
const TAG_LENGTH = 257;
const TAG_COMPRESSION = 259;
/** A fax has at most a few hundred pages; a loop in the IFD chain must not hang the worker. */
const MAX_PAGES = 10_000;

/** Walks the IFD chain of a TIFF file (classic TIFF, either byte order). Throws on anything else. */
export async function readTiffPages(file: string): Promise<TiffPage[]> {
  const buf = await fs.promises.readFile(file);
  const order = buf.toString('latin1', 0, 2);
  if (buf.length < 8 || (order !== 'II' && order !== 'MM')) throw new Error('not a TIFF file');
  const le = order === 'II';
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  if (u16(2) !== 42) throw new Error('not a classic TIFF file');
  const pages: TiffPage[] = [];
  let offset = u32(4);
  while (offset !== 0) {
    if (pages.length >= MAX_PAGES || offset + 2 > buf.length) throw new Error('damaged TIFF directory chain');
    const count = u16(offset);
    const page: TiffPage = { width: 0, length: 0, compression: 1 };
    for (let i = 0; i < count; i++) {
      const e = offset + 2 + i * 12;
      if (e + 12 > buf.length) throw new Error('damaged TIFF directory');
      const tag = u16(e);
      const type = u16(e + 2);
      const value = type === 3 ? u16(e + 8) : u32(e + 8);
      if (tag === TAG_WIDTH) page.width = value;
      else if (tag === TAG_LENGTH) page.length = value;
      else if (tag === TAG_COMPRESSION) page.compression = value;
    }
    pages.push(page);
    const next = offset + 2 + count * 12;
    if (next + 4 > buf.length) throw new Error('damaged TIFF directory');
    offset = u32(next);
  }
  return pages;
}
