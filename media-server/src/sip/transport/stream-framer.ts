/** What one chunk of a byte stream turned out to hold. */
export type FramerEvent =
  | { kind: 'message'; frame: Buffer }
  /** A double CRLF: the peer expects a single CRLF back (RFC 5626 §3.5.1). */
  | { kind: 'ping' }
  /** A lone CRLF between messages: nothing to answer. */
  | { kind: 'keepalive' }
  /** The stream cannot be cut into messages any more; the connection must go. */
  | { kind: 'error'; reason: string };

const CR = 0x0d;
const LF = 0x0a;
const CONTENT_LENGTH_LINE = /^(?:content-length|l)[ \t]*:[ \t]*(.*?)[ \t]*$/i;

/**
 * Cuts a TCP or TLS byte stream into SIP messages. On a stream the message
 * length comes only from Content-Length, which is therefore mandatory
 * (https://www.rfc-editor.org/rfc/rfc3261#section-18.3); a message without it,
 * with a bad value, or larger than `maxMessageBytes` is a framing error, since
 * nothing tells where the next message starts. The buffer never holds more
 * than `maxMessageBytes` plus the last chunk.
 */
export class StreamFramer {
  readonly #maxMessageBytes: number;
  #buffer: Buffer = Buffer.alloc(0);
  #failed = false;

  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  get bufferedBytes(): number {
    return this.#buffer.length;
  }

  push(chunk: Buffer): FramerEvent[] {
    if (this.#failed) return [];
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    const events: FramerEvent[] = [];
    for (;;) {
      const event = this.#next();
      if (!event) break;
      events.push(event);
      if (event.kind === 'error') {
        this.#failed = true;
        this.#buffer = Buffer.alloc(0);
        break;
      }
    }
    return events;
  }

  #next(): FramerEvent | null {
    const buf = this.#buffer;
    if (buf.length === 0) return null;
    if (buf[0] === CR) {
      // Keep-alives come between messages (RFC 5626 §3.5.1): "\r\n\r\n" is a ping, "\r\n" alone is not.
      if (buf.length < 4 && isCrlfPrefix(buf)) return null;
      if (buf[1] === LF && buf[2] === CR && buf[3] === LF) {
        this.#consume(4);
        return { kind: 'ping' };
      }
      if (buf[1] === LF) {
        this.#consume(2);
        return { kind: 'keepalive' };
      }
    }

    const head = findHeaderEnd(buf);
    if (!head) {
      return buf.length > this.#maxMessageBytes
        ? { kind: 'error', reason: 'header section too large' }
        : null;
    }
    const length = contentLength(buf.toString('latin1', 0, head.end));
    if (typeof length === 'string') return { kind: 'error', reason: length };
    const total = head.end + head.separator + length;
    if (total > this.#maxMessageBytes) return { kind: 'error', reason: 'message too large' };
    if (buf.length < total) return null;
    const frame = buf.subarray(0, total);
    this.#consume(total);
    return { kind: 'message', frame };
  }

  #consume(n: number): void {
    this.#buffer = this.#buffer.subarray(n);
  }
}

function isCrlfPrefix(buf: Buffer): boolean {
  const pattern = [CR, LF, CR, LF];
  for (let i = 0; i < buf.length; i++) if (buf[i] !== pattern[i]) return false;
  return true;
}

/** End of the header section; a bare-LF blank line is accepted as the parser accepts it. */
function findHeaderEnd(buf: Buffer): { end: number; separator: number } | null {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return null;
  if (lf >= 0 && (crlf < 0 || lf < crlf)) return { end: lf, separator: 2 };
  return { end: crlf, separator: 4 };
}

/** The body length, or the reason there is none usable. */
function contentLength(head: string): number | string {
  let found: number | null = null;
  for (const line of head.split(/\r?\n/)) {
    const m = CONTENT_LENGTH_LINE.exec(line);
    if (!m) continue;
    if (!/^[0-9]{1,9}$/.test(m[1]!)) return 'bad Content-Length';
    const value = Number(m[1]);
    // Two different lengths would let a peer smuggle a second message past whoever reads the first.
    if (found !== null && found !== value) return 'conflicting Content-Length';
    found = value;
  }
  return found ?? 'missing Content-Length on a stream';
}
