/**
 * Just enough MIME (RFC 2045–2047) to read a fax sent by e-mail: the subject,
 * the first plain text part and the attached files. Nested multiparts are
 * walked; anything unreadable in a part leaves that part out rather than the
 * whole message.
 */

export interface MimeAttachment {
  name: string;
  mediaType: string;
  data: Buffer;
}

export interface ParsedMail {
  subject: string;
  text: string;
  attachments: MimeAttachment[];
}

interface Part {
  headers: Map<string, string>;
  body: Buffer;
}

const MAX_DEPTH = 8;

function splitPart(raw: Buffer): Part {
  let split = raw.indexOf('\r\n\r\n');
  let sepLength = 4;
  if (split < 0) {
    split = raw.indexOf('\n\n');
    sepLength = 2;
  }
  const head = split < 0 ? raw.toString('latin1') : raw.subarray(0, split).toString('latin1');
  const body = split < 0 ? Buffer.alloc(0) : raw.subarray(split + sepLength);
  const headers = new Map<string, string>();
  // Folded lines continue the header above them.
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** `text/plain; charset="utf-8"; name=a.txt` → value and parameters (names lower-cased). */
export function headerParams(value: string): { value: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  const [first, ...rest] = value.split(';');
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    params.set(p.slice(0, eq).trim().toLowerCase(), v);
  }
  return { value: (first ?? '').trim().toLowerCase(), params };
}

function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset || 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

/** RFC 2047 encoded words (`=?utf-8?B?...?=`, `=?iso-8859-1?Q?...?=`) in a header. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, charset: string, enc: string, text: string) => {
      const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQuotedPrintable(Buffer.from(text.replaceAll('_', ' '), 'latin1'));
      return decodeCharset(bytes, charset.split('*')[0]);
    });
}

function decodeQuotedPrintable(body: Buffer): Buffer {
  const text = body.toString('latin1').replace(/=\r?\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(c.charCodeAt(0) & 0xff);
    }
  }
  return Buffer.from(out);
}

function decodeBody(part: Part): Buffer {
  const encoding = (part.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(part.body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(part.body);
  return part.body;
}

function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Buffer[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const afterDelimiter = at + delimiter.length;
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString('latin1') === '--') break;
    const start = body.indexOf('\n', afterDelimiter);
    if (start < 0) break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    // The line break before the next delimiter belongs to the delimiter.
    let end = next;
    if (body[end - 1] === 0x0a) end--;
    if (body[end - 1] === 0x0d) end--;
    parts.push(body.subarray(start + 1, end));
    at = next;
  }
  return parts;
}

export function parseMail(raw: Buffer): ParsedMail {
  const root = splitPart(raw);
  const result: ParsedMail = { subject: decodeEncodedWords(root.headers.get('subject') ?? '').trim(), text: '', attachments: [] };
  let textFound = false;
  const walk = (part: Part, depth: number) => {
    const type = headerParams(part.headers.get('content-type') ?? 'text/plain');
    if (type.value.startsWith('multipart/') && depth < MAX_DEPTH) {
      const boundary = type.params.get('boundary');
      if (!boundary) return;
      for (const child of splitMultipart(part.body, boundary)) walk(splitPart(child), depth + 1);
      return;
    }
    const disposition = headerParams(part.headers.get('content-disposition') ?? '');
    const rawName = disposition.params.get('filename') ?? type.params.get('name');
    const name = rawName ? decodeEncodedWords(rawName) : null;
    if (!name && type.value === 'text/plain' && disposition.value !== 'attachment') {
      if (!textFound) result.text = decodeCharset(decodeBody(part), type.params.get('charset')).trim();
      textFound = true;
      return;
    }
    // An HTML alternative of the body is not an attachment.
    if (!name && type.value === 'text/html') return;
    const data = decodeBody(part);
    if (data.length === 0) return;
    result.attachments.push({ name: name ?? `attachment-${result.attachments.length + 1}`, mediaType: type.value, data });
  };
  walk(root, 0);
  return result;
}
