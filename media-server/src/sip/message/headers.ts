/**
 * Header names and the value grammar shared by parser and serialiser
 * (RFC 3261 §7.3, §20). Names are kept lower-case internally; compact forms
 * are expanded on the way in so the rest of the stack sees one spelling.
 */
const COMPACT: Record<string, string> = {
  v: 'via',
  f: 'from',
  t: 'to',
  i: 'call-id',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  s: 'subject',
  e: 'content-encoding',
  o: 'event',
  r: 'refer-to',
  b: 'referred-by',
  x: 'session-expires',
  u: 'allow-events',
};

/** How names are written on the wire (anything else is capitalised per word). */
const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'proxy-authenticate': 'Proxy-Authenticate',
  'proxy-authorization': 'Proxy-Authorization',
  'mime-version': 'MIME-Version',
  'rack': 'RAck',
  'rseq': 'RSeq',
};

export function normaliseHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return COMPACT[lower] ?? lower;
}

export function wireHeaderName(lower: string): string {
  return CANONICAL[lower] ?? lower.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/** Headers whose value may hold several comma-separated entries (RFC 3261 §7.3.1). */
export const MULTI_VALUE = new Set(['via', 'contact', 'route', 'record-route', 'allow', 'supported', 'require', 'proxy-require', 'unsupported', 'accept', 'allow-events']);

/** Splits on commas outside quotes and angle brackets. */
export function splitHeaderValues(value: string): string[] {
  const out: string[] = [];
  let depthAngle = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) quoted = false;
    } else if (c === 34) quoted = true;
    else if (c === 60 /* < */) depthAngle++;
    else if (c === 62 /* > */) depthAngle = Math.max(0, depthAngle - 1);
    else if (c === 44 /* , */ && depthAngle === 0) {
      const part = value.slice(start, i).trim();
      if (part) out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last) out.push(last);
  return out;
}

export type Params = Map<string, string | null>;

/** Parses `;name=value;flag` parameters (keys lower-cased, quotes kept off values). */
export function parseParams(text: string): Params {
  const params: Params = new Map();
  for (const part of splitOutsideQuotes(text, ';')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq < 0) params.set(p.toLowerCase(), null);
    else params.set(p.slice(0, eq).trim().toLowerCase(), unquote(p.slice(eq + 1).trim()));
  }
  return params;
}

export function formatParams(params: Params): string {
  let out = '';
  for (const [k, v] of params) out += v === null ? `;${k}` : `;${k}=${needsQuotes(v) ? quote(v) : v}`;
  return out;
}

export function splitOutsideQuotes(text: string, sep: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

export function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}

export const quote = (v: string) => `"${v.replace(/(["\\])/g, '\\$1')}"`;
const needsQuotes = (v: string) => /[\s;,"=<>]/.test(v);
