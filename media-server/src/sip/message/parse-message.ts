import { normaliseHeaderName } from './headers.ts';
import { SipRequest, SipResponse, type HeaderField, type SipMessage } from './sip-message.ts';

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
       * What could be read of a request that is still answerable: a 400 needs
       * the Via, From, To, Call-ID and CSeq to reach its sender (RFC 3261 §8.2.6.2).
       */
      request?: SipRequest;
    };

const REQUEST_LINE = /^([A-Za-z!%*_+`'~.-]+) (\S+) SIP\/2\.0$/;
const STATUS_LINE = /^SIP\/2\.0 ([1-6][0-9]{2}) ?(.*)$/;
const TOKEN = /^[A-Za-z0-9!%*_+`'~.-]+$/;
const REQUIRED = ['via', 'from', 'to', 'call-id', 'cseq'];

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
  if (/[\x00]/.test(head)) return { ok: false, reason: 'NUL in header section' };
  const lines = head.split(/\r?\n/);
  // Leading empty lines are keep-alives or stray CRLFs (RFC 5626 §3.5.1): skip them.
  while (lines.length && lines[0] === '') lines.shift();
  const startLine = lines.shift();
  if (!startLine) return { ok: false, reason: 'no start line' };

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

  let message: SipMessage;
  const req = REQUEST_LINE.exec(startLine);
  if (req) {
    message = new SipRequest(req[1]!, req[2]!, headers, body);
  } else {
    const res = STATUS_LINE.exec(startLine);
    if (!res) return { ok: false, reason: 'malformed start line' };
    message = new SipResponse(Number(res[1]), res[2]!, headers, body);
  }

  for (const name of REQUIRED) {
    if (!headers.some((h) => h.name === name)) return reject(`missing ${name}`, message);
  }
  const cseq = message.cseq;
  if (cseq.seq < 0 || cseq.seq > 2 ** 31 - 1) return reject('bad CSeq', message);
  if (message.kind === 'request' && cseq.method !== message.method) return reject('CSeq method differs from request method', message);
  if (!message.topVia()) return reject('malformed Via', message);
  if (!message.from() || !message.to()) return reject('malformed From or To', message);
  if (message.kind === 'request') {
    if (!message.requestUri()) return reject('malformed Request-URI', message);
    const mf = message.get('max-forwards');
    if (mf !== undefined && !/^[0-9]{1,3}$/.test(mf)) return reject('bad Max-Forwards', message);
  }
  return { ok: true, message };
}

function reject(reason: string, message: SipMessage): ParseResult {
  return message.kind === 'request' ? { ok: false, reason, request: message } : { ok: false, reason };
}

function fail(reason: string, startLine: string, headers: HeaderField[]): ParseResult {
  const req = REQUEST_LINE.exec(startLine);
  return req ? { ok: false, reason, request: new SipRequest(req[1]!, req[2]!, headers) } : { ok: false, reason };
}
