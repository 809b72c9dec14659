/**
 * How a text becomes SMS segments: the encoding it needs (GSM 03.38 7-bit
 * default alphabet with its extension table, else UCS-2), the count of
 * segments and what is left in the last one (the composer's live counter), and
 * the split into concatenated segments, each with its User Data Header
 * (3GPP TS 23.040 §9.2.3.24.1, IEI 0x00: 8-bit reference).
 *
 * GSM-7 payloads are unpacked septets, one per octet, as SMPP 3.4 carries them
 * with data_coding 0 (SMSC default alphabet); the SMSC packs them for the air.
 * UCS-2 payloads are UTF-16BE (data_coding 8). Pure code: the browser uses it.
 */

export type SmsEncoding = 'gsm7' | 'ucs2';

/** GSM 03.38 default alphabet, indexed by septet value. */
const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** The extension table: these cost two septets, ESC (0x1B) then the code. */
const GSM7_EXTENSION: Readonly<Record<string, number>> = {
  '\f': 0x0a,
  '^': 0x14,
  '{': 0x28,
  '}': 0x29,
  '\\': 0x2f,
  '[': 0x3c,
  '~': 0x3d,
  ']': 0x3e,
  '|': 0x40,
  '€': 0x65,
};
const ESC = 0x1b;

const basicCode = new Map<string, number>();
for (let i = 0; i < GSM7_BASIC.length; i++) if (i !== ESC) basicCode.set(GSM7_BASIC[i]!, i);
const extensionChar = new Map<number, string>(Object.entries(GSM7_EXTENSION).map(([c, code]) => [code, c]));

/** Single-segment capacity, and per-segment capacity once a 6-octet UDH takes its room. */
export const SMS_LIMITS = {
  gsm7: { single: 160, concatenated: 153 },
  ucs2: { single: 70, concatenated: 67 },
} as const;

/** Longest message accepted (carriers commonly refuse more than about ten parts). */
export const SMS_MAX_SEGMENTS = 10;

/** SMPP data_coding for each encoding (SMPP 3.4 §5.2.19). */
export const SMS_DATA_CODING: Readonly<Record<SmsEncoding, number>> = { gsm7: 0x00, ucs2: 0x08 };

/** Septets a character costs in GSM-7, or null when it is not in the alphabet. */
function gsm7Cost(ch: string): 1 | 2 | null {
  if (basicCode.has(ch)) return 1;
  if (ch in GSM7_EXTENSION) return 2;
  return null;
}

export function smsEncodingOf(text: string): SmsEncoding {
  for (const ch of text) if (gsm7Cost(ch) === null) return 'ucs2';
  return 'gsm7';
}

/** The text in units of its encoding: one entry per character, with its cost (septets, or UTF-16 code units). */
function units(text: string, encoding: SmsEncoding): { ch: string; cost: number }[] {
  // for..of walks code points, so a surrogate pair (an emoji) is one entry costing 2 code units.
  return [...text].map((ch) => ({ ch, cost: encoding === 'gsm7' ? gsm7Cost(ch)! : ch.length }));
}

/** Packs characters into segments of `capacity` units, never splitting an escape pair or a surrogate pair. */
function pack(list: { ch: string; cost: number }[], capacity: number): string[] {
  const parts: string[] = [];
  let current = '';
  let used = 0;
  for (const { ch, cost } of list) {
    if (used + cost > capacity) {
      parts.push(current);
      current = '';
      used = 0;
    }
    current += ch;
    used += cost;
  }
  if (current || parts.length === 0) parts.push(current);
  return parts;
}

export interface SmsMeasure {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes. */
  length: number;
  segments: number;
  /** Units still free in the last segment before another one is needed. */
  charactersLeft: number;
  /** Units per segment at this count (160/70 alone, 153/67 once concatenated). */
  perSegment: number;
}

/** The composer's live counter. An empty text is one empty segment. */
export function measureSms(text: string): SmsMeasure {
  const encoding = smsEncodingOf(text);
  const list = units(text, encoding);
  const length = list.reduce((n, u) => n + u.cost, 0);
  const limits = SMS_LIMITS[encoding];
  if (length <= limits.single) {
    return { encoding, length, segments: 1, charactersLeft: limits.single - length, perSegment: limits.single };
  }
  const parts = pack(list, limits.concatenated);
  const lastUsed = units(parts[parts.length - 1]!, encoding).reduce((n, u) => n + u.cost, 0);
  return { encoding, length, segments: parts.length, charactersLeft: limits.concatenated - lastUsed, perSegment: limits.concatenated };
}

export interface SmsSegment {
  /** The part of the text this segment carries. */
  text: string;
  /** The UDH with its length octet (UDHL), or null for a single-segment message. */
  udh: Uint8Array | null;
  /** Encoded text: unpacked septets (GSM-7) or UTF-16BE (UCS-2). */
  payload: Uint8Array;
}

export interface SmsSplit {
  encoding: SmsEncoding;
  dataCoding: number;
  segments: SmsSegment[];
}

export class SmsTooLongError extends Error {
  readonly segments: number;
  constructor(segments: number) {
    super(`message needs ${segments} segments; at most ${SMS_MAX_SEGMENTS} are allowed`);
    this.segments = segments;
  }
}

/**
 * Splits a text into the segments to submit. `reference` (0–255) ties the
 * parts of one message together on the handset; the sender picks it per
 * message so that two long messages in flight to one number do not mix.
 */
export function splitSms(text: string, reference: number): SmsSplit {
  if (!Number.isInteger(reference) || reference < 0 || reference > 255) throw new RangeError('reference must be 0..255');
  if (text.length === 0) throw new RangeError('empty message');
  const encoding = smsEncodingOf(text);
  const list = units(text, encoding);
  const length = list.reduce((n, u) => n + u.cost, 0);
  const limits = SMS_LIMITS[encoding];
  const parts = length <= limits.single ? [text] : pack(list, limits.concatenated);
  if (parts.length > SMS_MAX_SEGMENTS) throw new SmsTooLongError(parts.length);
  const total = parts.length;
  return {
    encoding,
    dataCoding: SMS_DATA_CODING[encoding],
    segments: parts.map((part, i) => ({
      text: part,
      // UDHL 5, IEI 0x00 (concatenated, 8-bit reference), IEDL 3, reference, total, sequence (1-based).
      udh: total === 1 ? null : Uint8Array.of(0x05, 0x00, 0x03, reference, total, i + 1),
      payload: encodeSms(part, encoding),
    })),
  };
}

export function encodeSms(text: string, encoding: SmsEncoding): Uint8Array {
  if (encoding === 'ucs2') {
    const out = new Uint8Array(text.length * 2);
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      out[2 * i] = code >> 8;
      out[2 * i + 1] = code & 0xff;
    }
    return out;
  }
  const out: number[] = [];
  for (const ch of text) {
    const basic = basicCode.get(ch);
    if (basic !== undefined) out.push(basic);
    else if (ch in GSM7_EXTENSION) out.push(ESC, GSM7_EXTENSION[ch]!);
    else throw new RangeError(`character U+${ch.codePointAt(0)!.toString(16)} is not in the GSM 03.38 alphabet`);
  }
  return Uint8Array.from(out);
}

/** Decodes a payload; an unknown GSM-7 escape becomes its basic character (3GPP TS 23.038 §6.2.1.1). */
export function decodeSms(payload: Uint8Array, encoding: SmsEncoding): string {
  if (encoding === 'ucs2') {
    let s = '';
    for (let i = 0; i + 1 < payload.length; i += 2) s += String.fromCharCode((payload[i]! << 8) | payload[i + 1]!);
    return s;
  }
  let s = '';
  for (let i = 0; i < payload.length; i++) {
    const b = payload[i]! & 0x7f;
    if (b === ESC && i + 1 < payload.length) {
      const next = payload[++i]! & 0x7f;
      s += extensionChar.get(next) ?? GSM7_BASIC[next];
    } else {
      s += GSM7_BASIC[b];
    }
  }
  return s;
}

/** SMPP data_coding → encoding; null for codings this product does not read (8-bit binary, …). */
export function smsEncodingOfDataCoding(dataCoding: number): SmsEncoding | null {
  const coding = dataCoding & 0xff;
  if (coding === 0x00 || coding === 0x01) return 'gsm7';
  if (coding === 0x08) return 'ucs2';
  return null;
}

export interface ConcatenationInfo {
  reference: number;
  total: number;
  sequence: number;
}

/**
 * Splits a short_message whose esm_class has UDHI set into its UDH and text
 * octets, and reads the concatenation element (IEI 0x00, 8-bit reference, or
 * 0x08, 16-bit reference; 3GPP TS 23.040 §9.2.3.24.1 and §9.2.3.24.8).
 * Returns null for a UDH that overruns the message.
 */
export function readUdh(message: Uint8Array): { concatenation: ConcatenationInfo | null; body: Uint8Array } | null {
  if (message.length === 0) return null;
  const udhl = message[0]!;
  if (1 + udhl > message.length) return null;
  let concatenation: ConcatenationInfo | null = null;
  let i = 1;
  while (i + 1 < 1 + udhl) {
    const iei = message[i]!;
    const len = message[i + 1]!;
    const data = message.subarray(i + 2, i + 2 + len);
    if (i + 2 + len > 1 + udhl) return null;
    if (iei === 0x00 && len === 3) concatenation = { reference: data[0]!, total: data[1]!, sequence: data[2]! };
    if (iei === 0x08 && len === 4) concatenation = { reference: (data[0]! << 8) | data[1]!, total: data[2]!, sequence: data[3]! };
    i += 2 + len;
  }
  if (concatenation && (concatenation.total === 0 || concatenation.sequence === 0 || concatenation.sequence > concatenation.total)) concatenation = null;
  return { concatenation, body: message.subarray(1 + udhl) };
}
