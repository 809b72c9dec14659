import { randomBytes } from 'node:crypto';
import { wireHeaderName } from './headers.ts';
import { SipResponse, type SipMessage, type SipRequest } from './sip-message.ts';
import { BRANCH_COOKIE } from './via.ts';

/** Writes a message with a Content-Length that always matches its body. */
export function serializeSipMessage(msg: SipMessage): Buffer {
  let head = msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0\r\n` : `SIP/2.0 ${msg.status} ${msg.reason}\r\n`;
  for (const h of msg.headers) {
    if (h.name === 'content-length') continue;
    head += `${wireHeaderName(h.name)}: ${h.value}\r\n`;
  }
  head += `Content-Length: ${msg.body.length}\r\n\r\n`;
  const headBuf = Buffer.from(head, 'utf8');
  return msg.body.length ? Buffer.concat([headBuf, msg.body]) : headBuf;
}

export const REASON_PHRASES: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  200: 'OK',
  202: 'Accepted',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  406: 'Not Acceptable',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  423: 'Interval Too Brief',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  // RFC 6665 §8.3.1 (first in RFC 3265).
  489: 'Bad Event',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'Version Not Supported',
  603: 'Decline',
};

const COPIED = new Set(['via', 'from', 'call-id', 'cseq']);

/**
 * A response to a request as RFC 3261 §8.2.6 builds it: Via, From, Call-ID and
 * CSeq copied, To copied with a tag added (except for 100 Trying).
 */
export function createResponse(req: SipRequest, status: number, opts: { reason?: string; toTag?: string } = {}): SipResponse {
  const res = new SipResponse(status, opts.reason ?? REASON_PHRASES[status] ?? 'Unknown');
  for (const h of req.headers) if (COPIED.has(h.name)) res.headers.push({ name: h.name, value: h.value });
  const to = req.get('to') ?? '';
  const hasTag = /;\s*tag=/i.test(to);
  res.headers.push({ name: 'to', value: hasTag || status === 100 ? to : `${to};tag=${opts.toTag ?? newTag()}` });
  return res;
}

export const newTag = () => randomBytes(6).toString('hex');
export const newBranch = () => BRANCH_COOKIE + randomBytes(8).toString('hex');
export const newCallId = (host: string) => `${randomBytes(12).toString('hex')}@${host}`;
