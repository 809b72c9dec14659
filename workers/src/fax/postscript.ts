/**
 * PostScript for the pages Carillon writes itself (cover page, plain text
 * attachments). Ghostscript renders it straight to fax pages, so no other
 * program is involved. Text is set in Latin-1 (the standard fonts have no
 * other glyphs); characters outside it print as '?'.
 */

import type { FaxCoverInfo, FaxCoverTemplate } from '@carillon/domain';

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
  template: FaxCoverTemplate;
  fromName: string;
  fromNumber: string | null;
  /** The sender's Cover Page Info; empty parts are left off. */
  info: Partial<FaxCoverInfo>;
  to: string;
  subject: string;
  message: string;
  /** Already formatted for the reader, e.g. "2026-11-21 14:05 UTC". */
  date: string;
  /** Pages of the whole fax, this one included. */
  pageCount: number;
}

/** The sender's block: company, address and numbers, one line each, without the empty ones. */
export function coverSenderLines(info: Partial<FaxCoverInfo>): string[] {
  const join = (...parts: (string | undefined)[]) => parts.map((p) => p?.trim() ?? '').filter((p) => p !== '').join(' ');
  return [
    join(info.company),
    join(info.street),
    join(info.street2),
    join(join(info.city, info.state).replace(/ (?=\S+$)/, ', '), info.postalCode),
    join(info.country),
    info.phoneNumber ? `Tel. ${info.phoneNumber}` : '',
    info.faxNumber ? `Fax ${info.faxNumber}` : '',
  ].filter((l) => l !== '');
}

const CONFIDENTIAL_NOTICE =
  'This fax is intended only for the recipient named above and may contain confidential information. If you received it in error, please tell the sender at once and destroy it.';

/** The cover page in the chosen template's layout; every template prints the same fields. */
export function coverPagePostScript(fields: CoverPageFields, paper: PaperSize): string {
  const { width, height } = PAPER_POINTS[paper];
  const left = 72;
  const right = width - left;
  const rows: [string, string][] = [
    ['From:', [fields.fromName, fields.fromNumber ?? ''].filter((v) => v.trim() !== '').join('  ')],
    ['To:', fields.to],
    ['Subject:', fields.subject],
    ['Date:', fields.date],
    ['Pages:', String(fields.pageCount)],
  ];
  const sender = coverSenderLines(fields.info);
  const font = (bold: boolean, size: number) => `/Helvetica${bold ? '-Bold' : ''}-L1 findfont ${size} scalefont setfont\n`;
  const rightAligned = (text: string, x: number, y: number) => `${psString(text)} dup stringwidth pop neg ${x} add ${y} moveto show\n`;
  let ps = PROLOGUE;
  let y: number;

  if (fields.template === 'contempo') {
    // A dark band with the title in white, the sender on its right.
    const band = 120;
    ps += `0 setgray 0 ${height - band} ${width} ${band} rectfill 1 setgray\n`;
    ps += `${font(true, 40)}${left} ${height - 78} moveto (fax) show\n`;
    ps += font(false, 11);
    sender.slice(0, 6).forEach((line, i) => (ps += rightAligned(line.slice(0, 50), right, height - 34 - i * 14)));
    ps += '0 setgray\n';
    y = height - band - 56;
    for (const [label, value] of rows) {
      ps += `${font(false, 11)}${left} ${y + 18} moveto ${psString(label.replace(':', '').toUpperCase())} show\n`;
      ps += `${font(true, 16)}${left} ${y} moveto ${psString(value.slice(0, 55))} show\n`;
      ps += `0.5 setlinewidth ${left} ${y - 8} moveto ${right} ${y - 8} lineto stroke\n`;
      y -= 44;
    }
  } else {
    const title = fields.template === 'confidential' ? 'CONFIDENTIAL FAX' : 'FAX';
    if (fields.template === 'confidential') ps += `3 setlinewidth 36 36 ${width - 72} ${height - 72} rectstroke\n`;
    y = height - 110;
    ps += `${font(true, fields.template === 'confidential' ? 30 : 36)}${left} ${y} moveto ${psString(title)} show\n`;
    ps += font(false, 10);
    sender.slice(0, 6).forEach((line, i) => (ps += rightAligned(line.slice(0, 50), right, height - 70 - i * 12)));
    y -= 16;
    ps += `4 setlinewidth ${left} ${y} moveto ${right} ${y} lineto stroke\n`;
    y -= 50;
    for (const [label, value] of rows) {
      ps += `${font(true, 16)}${left} ${y} moveto ${psString(label)} show\n`;
      ps += `${font(false, 16)}${left + 100} ${y} moveto ${psString(value.slice(0, 60))} show\n`;
      y -= 30;
    }
  }
  y -= 10;
  ps += `1 setlinewidth ${left} ${y} moveto ${right} ${y} lineto stroke\n`;
  y -= 36;
  const bottom = fields.template === 'confidential' ? 150 : 72;
  ps += font(false, 14);
  // Helvetica averages about half an em: a conservative column count for the message.
  for (const line of wrapLines(fields.message, Math.floor((right - left) / 7.5))) {
    if (y < bottom) break;
    if (line !== '') ps += `${left} ${y} moveto ${psString(line)} show\n`;
    y -= 19;
  }
  if (fields.template === 'confidential') {
    ps += font(true, 10);
    wrapLines(CONFIDENTIAL_NOTICE, Math.floor((right - left) / 5.5)).forEach((line, i) => (ps += `${left} ${110 - i * 13} moveto ${psString(line)} show\n`));
  }
  return `${ps}showpage\n`;
}
