/**
 * PostScript for the pages Carillon writes itself (cover page, plain text
 * attachments). Ghostscript renders it straight to fax pages, so no other
 * program is involved. Text is set in Latin-1 (the standard fonts have no
 * other glyphs); characters outside it print as '?'.
 */

export type PaperSize = 'letter' | 'a4';

/** Page size in PostScript points. */
export const PAPER_POINTS: Record<PaperSize, { width: number; height: number }> = {
  letter: { width: 612, height: 792 },
  a4: { width: 595, height: 842 },
};

/** A PostScript string literal of `text` in Latin-1. */
export function psString(text: string): string {
  let out = '(';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 63;
    if (ch === '(' || ch === ')' || ch === '\\') out += `\\${ch}`;
    else if (code >= 32 && code < 127) out += ch;
    else if (code >= 160 && code <= 255) out += `\\${code.toString(8).padStart(3, '0')}`;
    else if (ch === '\t') out += '    ';
    else out += '?';
  }
  return `${out})`;
}

const PROLOGUE = `%!PS-Adobe-3.0
/latin1 { findfont dup length dict begin { 1 index /FID ne { def } { pop pop } ifelse } forall
  /Encoding ISOLatin1Encoding def currentdict end definefont pop } def
/Helvetica-L1 /Helvetica latin1
/Helvetica-Bold-L1 /Helvetica-Bold latin1
/Courier-L1 /Courier latin1
`;

/** Splits `text` into lines of at most `width` characters, breaking at spaces where it can. */
export function wrapLines(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const raw of text.replace(/\r\n?/g, '\n').replaceAll('\t', '    ').split('\n')) {
    let rest = raw.trimEnd();
    if (rest === '') {
      lines.push('');
      continue;
    }
    while (rest.length > width) {
      let cut = rest.lastIndexOf(' ', width);
      if (cut <= 0) cut = width;
      lines.push(rest.slice(0, cut));
      rest = rest.slice(cut).replace(/^ /, '');
    }
    lines.push(rest);
  }
  return lines;
}

const TEXT_FONT_SIZE = 10;
const TEXT_LEADING = 12;
const TEXT_MARGIN = 54;
/** Courier is 0.6 em wide. */
const COURIER_ADVANCE = 0.6;

/** A plain text document as PostScript pages, in a monospaced font so that tables keep their columns. */
export function textDocumentPostScript(text: string, paper: PaperSize): string {
  const { width, height } = PAPER_POINTS[paper];
  const columns = Math.floor((width - 2 * TEXT_MARGIN) / (TEXT_FONT_SIZE * COURIER_ADVANCE));
  const perPage = Math.floor((height - 2 * TEXT_MARGIN) / TEXT_LEADING);
  const lines = wrapLines(text, columns);
  // An empty file still makes one (blank) page: the sender meant to send something.
  const pageCount = Math.max(1, Math.ceil(lines.length / perPage));
  let ps = PROLOGUE;
  for (let p = 0; p < pageCount; p++) {
    ps += `/Courier-L1 findfont ${TEXT_FONT_SIZE} scalefont setfont\n`;
    lines.slice(p * perPage, (p + 1) * perPage).forEach((line, i) => {
      if (line !== '') ps += `${TEXT_MARGIN} ${height - TEXT_MARGIN - TEXT_FONT_SIZE - i * TEXT_LEADING} moveto ${psString(line)} show\n`;
    });
    ps += 'showpage\n';
  }
  return ps;
}

export interface CoverPageFields {
  fromName: string;
  fromNumber: string | null;
  to: string;
  subject: string;
  message: string;
  /** Already formatted for the reader, e.g. "2026-11-21 14:05 UTC". */
  date: string;
  /** Pages of the whole fax, this one included. */
  pageCount: number;
}

/** The cover page: a title, the from/to/subject/date/pages block and the message. */
export function coverPagePostScript(fields: CoverPageFields, paper: PaperSize): string {
  const { width, height } = PAPER_POINTS[paper];
  const left = 72;
  let y = height - 110;
  let ps = `${PROLOGUE}/Helvetica-Bold-L1 findfont 36 scalefont setfont\n${left} ${y} moveto (FAX) show\n`;
  y -= 16;
  ps += `4 setlinewidth ${left} ${y} moveto ${width - left} ${y} lineto stroke\n`;
  y -= 50;
  const rows: [string, string][] = [
    ['From:', [fields.fromName, fields.fromNumber ?? ''].filter((v) => v.trim() !== '').join('  ')],
    ['To:', fields.to],
    ['Subject:', fields.subject],
    ['Date:', fields.date],
    ['Pages:', String(fields.pageCount)],
  ];
  for (const [label, value] of rows) {
    ps += `/Helvetica-Bold-L1 findfont 16 scalefont setfont ${left} ${y} moveto ${psString(label)} show\n`;
    ps += `/Helvetica-L1 findfont 16 scalefont setfont ${left + 100} ${y} moveto ${psString(value.slice(0, 60))} show\n`;
    y -= 30;
  }
  y -= 10;
  ps += `1 setlinewidth ${left} ${y} moveto ${width - left} ${y} lineto stroke\n`;
  y -= 36;
  ps += '/Helvetica-L1 findfont 14 scalefont setfont\n';
  // Helvetica averages about half an em: a conservative column count for the message.
  for (const line of wrapLines(fields.message, Math.floor((width - 2 * left) / 7.5))) {
    if (y < 72) break;
    if (line !== '') ps += `${left} ${y} moveto ${psString(line)} show\n`;
    y -= 19;
  }
  return `${ps}showpage\n`;
}
