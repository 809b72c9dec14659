import { normaliseHeaderName, parseParams, splitOutsideQuotes } from './headers.ts';
import { parseNameAddr } from './name-addr.ts';
import { SipRequest, SipResponse, type HeaderField, type SipMessage } from './sip-message.ts';
import { parseVia } from './via.ts';

export interface ParseLimits {
  /** Largest message accepted (a UDP datagram cannot exceed 65,507 bytes anyway). */
  maxBytes: number;
  maxHeaders: number;
  maxHeaderLine: number;
}

export const DEFAULT_LIMITS: ParseLimits = { maxBytes: 65_535, maxHeaders: 128, maxHeaderLine: 8_192 };

export type ParseResult =
  | { ok: true; message: SipMessage }
  | {
      ok: false;
      reason: string;
      /**
       * The answer a request gets when it is not the default 400: 505 for a SIP
       * version other than 2.0 (RFC 3261 §21.5.7, RFC 4475 §3.1.2.16), 416 for a
       * Request-URI scheme this stack does not know (RFC 3261 §8.2.2.1).
       */
      status?: 416 | 505;
      /**
       * What could be read of a request that is still answerable: a 400 needs
       * the Via, From, To, Call-ID and CSeq to reach its sender (RFC 3261 §8.2.6.2).
       */
      request?: SipRequest;
    };

/** Method = token (RFC 3261 §25.1): digits are as legal as letters. */
const REQUEST_LINE = /^([A-Za-z0-9!%*_+`'~.-]+) (\S+) SIP\/2\.0$/;
/** Still recognisably a request (so it can be answered), though not well-formed or not SIP/2.0. */
const LOOSE_REQUEST_LINE = /^([A-Za-z0-9!%*_+`'~.-]+)[ \t]+(.*?)[ \t]*SIP\/([0-9]+\.[0-9]+)[ \t]*$/;
/** Status-Code is exactly three digits, then SP (RFC 3261 §7.2): "4294967301" is no status (RFC 4475 §3.1.2.19). */
const STATUS_LINE = /^SIP\/2\.0 ([1-6][0-9]{2})(?: (.*))?$/;
const TOKEN = /^[A-Za-z0-9!%*_+`'~.-]+$/;
const REQUIRED = ['via', 'from', 'to', 'call-id', 'cseq'];
/** Headers a message carries at most once (RFC 3261 §7.3.1: only list headers may repeat; RFC 4475 §3.3.8, §3.3.9). */
const SINGLE = ['from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length'];
/** A URI scheme (RFC 3986 §3.1), to tell an unknown scheme (416) from a malformed URI (400). */
const URI_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
/** A NUL is only legal escaped, as a quoted-pair inside a quoted string (RFC 3261 §25.1, RFC 4475 §3.1.1.2). */
const BARE_NUL = /(?<!\\)\x00/;

type StartLine =
  | { kind: 'request'; method: string; uri: string; problem: { reason: string; status?: 505 } | null }
  | { kind: 'response'; status: number; reason: string };

function readStartLine(line: string): StartLine | null {
  const req = REQUEST_LINE.exec(line);
  if (req) return { kind: 'request', method: req[1]!, uri: req[2]!, problem: null };
  const res = STATUS_LINE.exec(line);
  if (res) return { kind: 'response', status: Number(res[1]), reason: res[2] ?? '' };
  const loose = LOOSE_REQUEST_LINE.exec(line);
  if (!loose) return null;
  // A version this stack does not speak gets 505 (RFC 3261 §21.5.7);
  // extra or missing spaces in the Request-Line are a 400 (RFC 4475 §3.1.2.8-§3.1.2.10).
  const problem = loose[3] !== '2.0' ? { reason: 'Version Not Supported', status: 505 as const } : { reason: 'malformed Request-Line' };
  return { kind: 'request', method: loose[1]!, uri: loose[2]!, problem };
}

/**
 * Parses one whole SIP message (a datagram, or a frame cut by the stream
 * framer). Never throws: anything malformed comes back as a reason, with the
 * request when enough of it was read to answer 400.
 */
export function parseSipMessage(buf: Buffer, limits: ParseLimits = DEFAULT_LIMITS): ParseResult {
  if (buf.length === 0) return { ok: false, reason: 'empty' };
  if (buf.length > limits.maxBytes) return { ok: false, reason: 'message too large' };
  // Header section ends at the first empty line; bare LF is tolerated (RFC 3261 §7.5 robustness).
  let headEnd = buf.indexOf('\r\n\r\n');
  let sepLen = 4;
  if (headEnd < 0) {
    headEnd = buf.indexOf('\n\n');
    sepLen = 2;
  }
  if (headEnd < 0) {
    headEnd = buf.length;
    sepLen = 0;
  }
  const head = buf.toString('latin1', 0, headEnd);
  if (BARE_NUL.test(head)) return { ok: false, reason: 'NUL in header section' };
  const lines = head.split(/\r?\n/);
  // Leading empty lines are keep-alives or stray CRLFs (RFC 5626 §3.5.1): skip them.
  while (lines.length && lines[0] === '') lines.shift();
  const startText = lines.shift();
  if (!startText) return { ok: false, reason: 'no start line' };
  const startLine = readStartLine(startText);

  const headers: HeaderField[] = [];
  for (const line of lines) {
    if (line.length > limits.maxHeaderLine) return { ok: false, reason: 'header line too long' };
    if ((line.startsWith(' ') || line.startsWith('\t')) && headers.length) {
      // Folded continuation of the previous header (RFC 3261 §7.3.1).
      headers[headers.length - 1]!.value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return fail('malformed header line', startLine, headers);
    const name = line.slice(0, colon).trim();
    if (!TOKEN.test(name)) return fail('malformed header name', startLine, headers);
    headers.push({ name: normaliseHeaderName(name), value: line.slice(colon + 1).trim() });
    if (headers.length > limits.maxHeaders) return { ok: false, reason: 'too many headers' };
  }
  // Header values arrived as latin1 bytes; re-read them as UTF-8 (display names may be UTF-8).
  for (const h of headers) if (/[\x80-\xff]/.test(h.value)) h.value = Buffer.from(h.value, 'latin1').toString('utf8');

  const bodyStart = headEnd + sepLen;
  let body = buf.subarray(Math.min(bodyStart, buf.length));
  const cl = headers.find((h) => h.name === 'content-length');
  if (cl) {
    if (!/^[0-9]{1,9}$/.test(cl.value)) return fail('bad Content-Length', startLine, headers);
    const length = Number(cl.value);
    if (length > body.length) return fail('body shorter than Content-Length', startLine, headers);
    body = body.subarray(0, length);
  }

  if (!startLine) return { ok: false, reason: 'malformed start line' };
  const message: SipMessage =
    startLine.kind === 'request' ? new SipRequest(startLine.method, startLine.uri, headers, body) : new SipResponse(startLine.status, startLine.reason, headers, body);

  for (const name of REQUIRED) {
    if (!headers.some((h) => h.name === name)) return reject(`missing ${name}`, message);
  }
  if (startLine.kind === 'request' && startLine.problem) return reject(startLine.problem.reason, message, startLine.problem.status);
  for (const name of SINGLE) {
    if (headers.filter((h) => h.name === name).length > 1) return reject(`more than one ${name}`, message);
  }
  const cseq = message.cseq;
  if (cseq.seq < 0 || cseq.seq > 2 ** 31 - 1) return reject('bad CSeq', message);
  if (message.kind === 'request' && cseq.method !== message.method) return reject('CSeq method differs from request method', message);
  if (!message.topVia()) return reject('malformed Via', message);
  if (!message.getAll('via').every(isWellFormedVia)) return reject('malformed Via', message);
  if (!message.from() || !message.to()) return reject('malformed From or To', message);
  if (message.kind === 'request') {
    const uri = message.requestUri();
    if (!uri) {
      const scheme = URI_SCHEME.exec(message.uri)?.[1]?.toLowerCase();
      // RFC 3261 §8.2.2.1: a Request-URI scheme the UAS does not support gets 416.
      if (scheme && scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') return reject('Unsupported URI Scheme', message, 416);
      return reject('malformed Request-URI', message);
    }
    // RFC 3261 §19.1.1 table: URI headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
    if (uri.headers !== null) return reject('headers in Request-URI', message);
    const mf = message.get('max-forwards');
    // 1*DIGIT, so leading zeros are fine (RFC 4475 §3.1.1.1), in 0-255 (RFC 3261 §20.22).
    if (mf !== undefined && !(/^[0-9]{1,10}$/.test(mf) && Number(mf) <= 255)) return reject('bad Max-Forwards', message);
    if (!message.getAll('contact').every(isWellFormedContact)) return reject('malformed Contact', message);
  }
  return { ok: true, message };
}

/** Every Via entry, not only the top one, and no empty `;;` parameter (RFC 4475 §3.1.2.1). */
function isWellFormedVia(value: string): boolean {
  return /^SIP\s*\/\s*2\.0\s*\//i.test(value) && parseVia(value) !== null && !hasEmptyParam(value);
}

function isWellFormedContact(value: string): boolean {
  if (value.trim() === '*') return true;
  const contact = parseNameAddr(value);
  if (!contact) return false;
  const gt = value.lastIndexOf('>');
  // A URI with headers must be inside <> (RFC 3261 §20.10, RFC 4475 §3.1.2.13).
  if (gt < 0 && contact.uri.headers !== null) return false;
  return !hasEmptyParam(gt < 0 ? value : value.slice(gt + 1));
}

function hasEmptyParam(text: string): boolean {
  const [, ...params] = splitOutsideQuotes(text, ';');
  return params.some((p) => p.trim() === '' || parseParams(p).has(''));
}

function reject(reason: string, message: SipMessage, status?: 416 | 505): ParseResult {
  if (message.kind !== 'request') return { ok: false, reason };
  return status ? { ok: false, reason, status, request: message } : { ok: false, reason, request: message };
}

function fail(reason: string, startLine: StartLine | null, headers: HeaderField[]): ParseResult {
  return startLine?.kind === 'request' ? { ok: false, reason, request: new SipRequest(startLine.method, startLine.uri, headers) } : { ok: false, reason };
}
