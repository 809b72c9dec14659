import { measureSms, SMS_MAX_SEGMENTS } from './sms-segments.ts';
import { smsNumberOf } from './sms-recipients.ts';
import { utf8Length } from './utf8.ts';

/**
 * The recipient list and the message template of a high-volume campaign
 * (issue 18, deliverable 2; inventory 3 §13: up to 250,000 texts a day).
 * A CSV (RFC 4180) with a header line: one column holds the phone number,
 * the others are fields the template names as `{{firstName}}`. Every row is
 * checked on its own: a bad row is reported with its line and never costs
 * the good ones.
 */

/** Texts a day from one high-volume number (inventory 3 §13), hence rows in one campaign. */
export const SMS_CAMPAIGN_DAILY_CAP = 250_000;
export const SMS_CAMPAIGN_MAX_ROWS = SMS_CAMPAIGN_DAILY_CAP;
/** A2P campaign texts a day from all of an account's numbers together (issue 18), unless the scheduler is given another. */
export const SMS_ACCOUNT_DAILY_CAP = 250_000;
/** An uploaded list: 250,000 rows of a number and a few short fields fit well under this. */
export const SMS_CAMPAIGN_MAX_CSV_BYTES = 16 * 1024 * 1024;
/** Headers accepted for the number column, compared case-insensitively without spaces, '_' or '-'. */
const PHONE_HEADERS = ['phone', 'phonenumber', 'number', 'mobile', 'to'];
const FIELD = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The fields a template names, in order of first use. */
export function templateFields(template: string): string[] {
  return [...new Set([...template.matchAll(FIELD)].map((m) => m[1]!))];
}

/** The template with each `{{field}}` replaced; the fields it names but `values` lacks (or leaves blank) are returned instead. */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): { ok: true; text: string } | { ok: false; missing: string[] } {
  return compileTemplate(template)(values);
}

/** A template read once, to fill in for many rows (a campaign's list). */
export function compileTemplate(template: string): (values: Readonly<Record<string, string>>) => { ok: true; text: string } | { ok: false; missing: string[] } {
  // Even indexes: literal text; odd: field names.
  const parts = template.split(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/);
  const fields = templateFields(template);
  return (values) => {
    const missing = fields.filter((f) => !values[f]?.trim());
    if (missing.length > 0) return { ok: false, missing };
    let text = '';
    for (let k = 0; k < parts.length; k++) text += k % 2 === 0 ? parts[k]! : values[parts[k]!]!.trim();
    return { ok: true, text };
  };
}

/** One record of a CSV, with the line it starts on (1 is the header). */
export interface CsvRecord {
  line: number;
  cells: string[];
}

/**
 * Splits CSV text into records (RFC 4180 §2: fields separated by commas,
 * optionally in double quotes, a quote inside a quoted field doubled; CRLF
 * or LF line ends). A byte-order mark is dropped and blank lines skipped.
 * Returns null when a quoted field is never closed.
 */
export function parseCsv(text: string): CsvRecord[] | null {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  const n = src.length;
  let line = 1;
  let i = 0;
  // One record per turn; unquoted fields are sliced, never built a character at a time.
  while (i < n) {
    const recordLine = line;
    const cells: string[] = [];
    for (;;) {
      let cell: string;
      // Spaces before an opening quote are tolerated, as many spreadsheets write them.
      let j = i;
      while (j < n && src.charCodeAt(j) === 0x20) j++;
      if (j < n && src.charCodeAt(j) === 0x22) {
        let value = '';
        let k = j + 1;
        for (;;) {
          const q = src.indexOf('"', k);
          if (q < 0) return null;
          value += src.slice(k, q);
          if (src.charCodeAt(q + 1) === 0x22) {
            value += '"';
            k = q + 2;
          } else {
            k = q + 1;
            break;
          }
        }
        for (let c = value.indexOf('\n'); c >= 0; c = value.indexOf('\n', c + 1)) line++;
        // Anything between the closing quote and the delimiter is kept, as a lenient reader would.
        let e = k;
        while (e < n && !isDelimiter(src.charCodeAt(e))) e++;
        cell = value + src.slice(k, e);
        i = e;
      } else {
        let e = i;
        while (e < n && !isDelimiter(src.charCodeAt(e))) e++;
        cell = src.slice(i, e);
        i = e;
      }
      cells.push(cell);
      if (i < n && src.charCodeAt(i) === 0x2c) {
        i++;
        continue;
      }
      break;
    }
    // The record ends at CRLF, LF, CR or the end of the text.
    if (i < n && src.charCodeAt(i) === 0x0d) i++;
    if (i < n && src.charCodeAt(i) === 0x0a) i++;
    line++;
    if (!(cells.length === 1 && cells[0]!.trim() === '')) records.push({ line: recordLine, cells });
  }
  return records;
}

function isDelimiter(c: number): boolean {
  return c === 0x2c || c === 0x0a || c === 0x0d;
}

export type CampaignRowError =
  | { line: number; code: 'invalid_number'; value: string }
  | { line: number; code: 'missing_field'; number: string; fields: string[] }
  | { line: number; code: 'duplicate_number'; number: string; firstLine: number }
  | { line: number; code: 'too_long'; number: string; segments: number; max: number };

export type CampaignListError =
  | { code: 'too_large'; bytes: number; max: number }
  | { code: 'unreadable' }
  | { code: 'empty' }
  | { code: 'no_phone_column' }
  | { code: 'missing_column'; fields: string[] }
  | { code: 'too_many_rows'; rows: number; max: number }
  | { code: 'empty_template' }
  | { code: 'no_valid_row'; errors: CampaignRowError[] };

export interface CampaignRecipientRow {
  line: number;
  /** E.164 */
  phone: string;
  /** The row's fields by header name (the number column excluded). */
  fields: Record<string, string>;
  /** The template filled in for this row. */
  text: string;
}

export type CampaignList = { ok: true; recipients: CampaignRecipientRow[]; errors: CampaignRowError[] } | { ok: false; error: CampaignListError };

export interface CampaignListLimits {
  maxRows?: number;
  maxBytes?: number;
}

/**
 * Reads an uploaded list against a template: each good row gives a
 * recipient with its text filled in; each bad one an error with its line.
 * The whole file is refused only when it cannot be a list at all (too large,
 * unreadable, no number column, a template field no column provides, too
 * many rows, or not one good row).
 */
export function readCampaignList(csv: string, template: string, limits: CampaignListLimits = {}): CampaignList {
  const maxBytes = limits.maxBytes ?? SMS_CAMPAIGN_MAX_CSV_BYTES;
  const maxRows = limits.maxRows ?? SMS_CAMPAIGN_MAX_ROWS;
  const bytes = utf8Length(csv);
  if (bytes > maxBytes) return { ok: false, error: { code: 'too_large', bytes, max: maxBytes } };
  if (template.trim() === '') return { ok: false, error: { code: 'empty_template' } };
  const records = parseCsv(csv);
  if (!records) return { ok: false, error: { code: 'unreadable' } };
  if (records.length < 2) return { ok: false, error: { code: 'empty' } };
  const header = records[0]!.cells.map((h) => h.trim());
  const phoneColumn = header.findIndex((h) => PHONE_HEADERS.includes(h.toLowerCase().replace(/[\s_-]/g, '')));
  if (phoneColumn < 0) return { ok: false, error: { code: 'no_phone_column' } };
  const absent = templateFields(template).filter((f) => !header.includes(f));
  if (absent.length > 0) return { ok: false, error: { code: 'missing_column', fields: absent } };
  const rows = records.slice(1);
  if (rows.length > maxRows) return { ok: false, error: { code: 'too_many_rows', rows: rows.length, max: maxRows } };

  const render = compileTemplate(template);
  const recipients: CampaignRecipientRow[] = [];
  const errors: CampaignRowError[] = [];
  const seen = new Map<string, number>();
  for (const { line, cells } of rows) {
    const raw = (cells[phoneColumn] ?? '').trim();
    const phone = smsNumberOf(raw);
    if (!phone) {
      errors.push({ line, code: 'invalid_number', value: raw.slice(0, 40) });
      continue;
    }
    const fields: Record<string, string> = {};
    header.forEach((name, col) => {
      if (col !== phoneColumn && name !== '') fields[name] = (cells[col] ?? '').trim();
    });
    const rendered = render(fields);
    if (!rendered.ok) {
      errors.push({ line, code: 'missing_field', number: phone, fields: rendered.missing });
      continue;
    }
    const { segments } = measureSms(rendered.text);
    if (segments > SMS_MAX_SEGMENTS) {
      errors.push({ line, code: 'too_long', number: phone, segments, max: SMS_MAX_SEGMENTS });
      continue;
    }
    const first = seen.get(phone);
    if (first !== undefined) {
      // One text per number and campaign: a second row would send it twice.
      errors.push({ line, code: 'duplicate_number', number: phone, firstLine: first });
      continue;
    }
    seen.set(phone, line);
    recipients.push({ line, phone, fields, text: rendered.text });
  }
  if (recipients.length === 0) return { ok: false, error: { code: 'no_valid_row', errors: errors.slice(0, 100) } };
  return { ok: true, recipients, errors };
}

/** The sentence shown for a row's error. */
export function campaignRowErrorMessage(e: CampaignRowError): string {
  switch (e.code) {
    case 'invalid_number':
      return e.value ? `line ${e.line}: ${e.value} is not a phone number` : `line ${e.line}: no phone number`;
    case 'missing_field':
      return `line ${e.line}: missing ${e.fields.join(', ')}`;
    case 'duplicate_number':
      return `line ${e.line}: ${e.number} is already on line ${e.firstLine}`;
    case 'too_long':
      return `line ${e.line}: the text takes ${e.segments} segments; at most ${e.max}`;
  }
}

/** The sentence shown for a list refused as a whole. */
export function campaignListErrorMessage(e: CampaignListError): string {
  switch (e.code) {
    case 'too_large':
      return `the file is ${Math.ceil(e.bytes / 1024)} KiB; at most ${Math.floor(e.max / 1024 / 1024)} MiB`;
    case 'unreadable':
      return 'the file is not valid CSV (a quoted field is never closed)';
    case 'empty':
      return 'the file has no row under its header line';
    case 'no_phone_column':
      return 'no phone number column: name one "phone" in the header line';
    case 'missing_column':
      return `the template uses ${e.fields.map((f) => `{{${f}}}`).join(', ')}, which no column provides`;
    case 'too_many_rows':
      return `${e.rows} rows; at most ${e.max} a day from one number`;
    case 'empty_template':
      return 'the message is empty';
    case 'no_valid_row':
      return `no valid row: ${e.errors.slice(0, 5).map(campaignRowErrorMessage).join('; ')}`;
  }
}
