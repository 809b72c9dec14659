import { readZipEntries, ZipLimitError } from './zip-reader.ts';

/** Limits of an uploaded users file: what one admin edits at once, and what a server reads without strain. */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
export const MAX_ROWS = 10_000;
/**
 * A workbook's parts unzipped: an XLSX of 10,000 users is a few MB, in about a dozen parts, its XML
 * compressed some 5 to 20 times; anything far beyond is not a users file (or is a zip bomb).
 */
export const XLSX_LIMITS = { maxEntries: 1000, maxUnzippedBytes: 50 * 1024 * 1024, maxRatio: 100 };

class TooManyRows extends Error {}

export type TableFormat = 'csv' | 'xlsx';
export type ReadTable = { ok: true; rows: string[][] } | { ok: false; error: 'unreadable_file' | 'too_many_rows' | 'empty_file'; message: string };

export function formatOf(fileName: string, bytes: Uint8Array): TableFormat {
  // A ZIP (every XLSX) starts with "PK\3\4", whatever it is named.
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4) return 'xlsx';
  return /\.xlsx$/i.test(fileName) ? 'xlsx' : 'csv';
}

/** Rows of cells, header first; blank rows are kept (so row numbers match the spreadsheet's) and trailing ones dropped. */
export function readTable(format: TableFormat, bytes: Uint8Array): ReadTable {
  let rows: string[][];
  try {
    rows = format === 'xlsx' ? readXlsx(bytes) : readCsv(decodeText(bytes));
  } catch (err) {
    if (err instanceof TooManyRows) return { ok: false, error: 'too_many_rows', message: `the file has more than the ${MAX_ROWS} rows allowed` };
    if (err instanceof ZipLimitError) return { ok: false, error: 'unreadable_file', message: err.message };
    return { ok: false, error: 'unreadable_file', message: err instanceof Error ? err.message : String(err) };
  }
  while (rows.length && rows.at(-1)!.every((c) => c.trim() === '')) rows.pop();
  if (rows.length === 0) return { ok: false, error: 'empty_file', message: 'the file has no header row' };
  if (rows.length - 1 > MAX_ROWS) return { ok: false, error: 'too_many_rows', message: `the file has ${rows.length - 1} rows, more than the ${MAX_ROWS} allowed` };
  return { ok: true, rows };
}

/** UTF-8 as the export writes it; a CSV saved by Excel in a French Windows is Windows-1252 instead. */
function decodeText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/** RFC 4180, with the separator Excel uses in the file's locale (comma, or semicolon in French). */
export function readCsv(text: string): string[][] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const sep = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += ch;
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === sep) {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
    if (rows.length > MAX_ROWS + 1) throw new TooManyRows();
  }
  if (quoted) throw new Error('a quoted cell is not closed');
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows.map((r) => r.map(unguard));
}

// The export writes "'" before a value that starts like a formula; reading it back removes it.
const unguard = (v: string) => (/^'[=+\-@]/.test(v) ? v.slice(1) : v);

const entities: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const unxml = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#[0-9]+|lt|gt|amp|quot|apos);/gi, (_, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : entities[e.toLowerCase()]!,
  );
/** The text of a string item: every <t> run, phonetic runs (<rPh>) left out. */
const textOf = (xml: string) => [...xml.replace(/<rPh\b[\s\S]*?<\/rPh>/g, '').matchAll(/<t(?:\s[^>]*)?>([\s\S]*?)<\/t>|<t[^>]*\/>/g)].map((m) => unxml(m[1] ?? '')).join('');

function columnIndex(ref: string): number {
  const letters = /^([A-Z]+)/.exec(ref)?.[1] ?? '';
  let n = 0;
  for (const ch of letters) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** The first sheet of a workbook: shared strings, inline strings and plain values. */
export function readXlsx(bytes: Uint8Array): string[][] {
  const files = readZipEntries(
    bytes,
    (name) => name === 'xl/workbook.xml' || name === 'xl/_rels/workbook.xml.rels' || name === 'xl/sharedStrings.xml' || /^xl\/worksheets\/[^/]+\.xml$/.test(name),
    XLSX_LIMITS,
  );
  const text = (name: string) => {
    const data = files.get(name);
    return data ? new TextDecoder().decode(data) : null;
  };
  let sheetPath = 'xl/worksheets/sheet1.xml';
  const workbook = text('xl/workbook.xml');
  const rels = text('xl/_rels/workbook.xml.rels');
  const firstSheetRel = workbook && /<sheet\b[^>]*\br:id="([^"]+)"/.exec(workbook)?.[1];
  if (firstSheetRel && rels) {
    const rel = [...rels.matchAll(/<Relationship\b[^>]*>/g)].map((m) => m[0]).find((r) => r.includes(`Id="${firstSheetRel}"`));
    const target = rel && /Target="([^"]+)"/.exec(rel)?.[1];
    if (target) sheetPath = target.startsWith('/') ? target.slice(1) : `xl/${target}`;
  }
  const sheet = text(sheetPath);
  if (!sheet) throw new Error('the workbook has no worksheet');
  const shared = [...(text('xl/sharedStrings.xml') ?? '').matchAll(/<si>([\s\S]*?)<\/si>|<si\/>/g)].map((m) => textOf(m[1] ?? ''));
  const rows: string[][] = [];
  for (const r of sheet.matchAll(/<row\b([^>]*?)(?:\/>|>([\s\S]*?)<\/row>)/g)) {
    const rowNumber = Number(/\br="(\d+)"/.exec(r[1]!)?.[1] ?? rows.length + 1);
    if (rowNumber > MAX_ROWS + 1) throw new TooManyRows();
    while (rows.length < rowNumber) rows.push([]);
    const cells = rows[rowNumber - 1]!;
    for (const c of (r[2] ?? '').matchAll(/<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
      const attrs = c[1]!;
      const body = c[2] ?? '';
      const ref = /\br="([A-Z]+\d+)"/.exec(attrs)?.[1];
      const type = /\bt="(\w+)"/.exec(attrs)?.[1] ?? 'n';
      const col = ref ? columnIndex(ref) : cells.length;
      const v = /<v>([\s\S]*?)<\/v>/.exec(body)?.[1];
      let value = '';
      if (type === 'inlineStr') value = textOf(/<is>([\s\S]*?)<\/is>/.exec(body)?.[1] ?? '');
      else if (type === 's') value = shared[Number(v)] ?? '';
      else if (v !== undefined) value = unxml(v);
      while (cells.length < col) cells.push('');
      cells[col] = value;
    }
  }
  return rows.map((r) => r.map(unguard));
}
