import { MULTI_VALUE, normaliseHeaderName, splitHeaderValues } from './headers.ts';
import { parseNameAddr, type NameAddr } from './name-addr.ts';
import { parseUri, type SipUri } from './sip-uri.ts';
import { parseVia, type Via } from './via.ts';

export interface HeaderField {
  /** Lower-case, compact forms expanded. */
  name: string;
  value: string;
}

export interface CSeq {
  seq: number;
  method: string;
}

/**
 * What requests and responses share: an ordered header list, kept as raw
 * strings and parsed on demand (most headers of most messages are only
 * relayed), and a body.
 */
abstract class SipMessageBase {
  headers: HeaderField[];
  body: Buffer;

  constructor(headers: HeaderField[] = [], body: Buffer = EMPTY) {
    this.headers = headers;
    this.body = body;
  }

  /** The first value of a header (for multi-value headers, the first entry). */
  get(name: string): string | undefined {
    const n = normaliseHeaderName(name);
    for (const h of this.headers) {
      if (h.name === n) return MULTI_VALUE.has(n) ? splitHeaderValues(h.value)[0] : h.value;
    }
    return undefined;
  }

  /** Every value of a header, comma-separated entries split for multi-value headers. */
  getAll(name: string): string[] {
    const n = normaliseHeaderName(name);
    const out: string[] = [];
    for (const h of this.headers) {
      if (h.name !== n) continue;
      if (MULTI_VALUE.has(n)) out.push(...splitHeaderValues(h.value));
      else out.push(h.value);
    }
    return out;
  }

  has(name: string): boolean {
    const n = normaliseHeaderName(name);
    return this.headers.some((h) => h.name === n);
  }

  set(name: string, value: string | number): this {
    this.remove(name);
    return this.add(name, value);
  }

  add(name: string, value: string | number): this {
    this.headers.push({ name: normaliseHeaderName(name), value: String(value) });
    return this;
  }

  /** Puts a header before the others of its name (a proxy's own Via goes on top). */
  prepend(name: string, value: string): this {
    const n = normaliseHeaderName(name);
    const i = this.headers.findIndex((h) => h.name === n);
    this.headers.splice(i < 0 ? 0 : i, 0, { name: n, value });
    return this;
  }

  remove(name: string): this {
    const n = normaliseHeaderName(name);
    this.headers = this.headers.filter((h) => h.name !== n);
    return this;
  }

  /** Drops the first entry of a multi-value header (the top Via of a response on its way back). */
  removeFirst(name: string): this {
    const n = normaliseHeaderName(name);
    const i = this.headers.findIndex((h) => h.name === n);
    if (i < 0) return this;
    const values = splitHeaderValues(this.headers[i]!.value);
    if (values.length <= 1) this.headers.splice(i, 1);
    else this.headers[i] = { name: n, value: values.slice(1).join(', ') };
    return this;
  }

  get callId(): string {
    return this.get('call-id') ?? '';
  }

  get cseq(): CSeq {
    const m = /^\s*([0-9]{1,10})\s+([A-Za-z0-9!%*_+`'~.-]+)\s*$/.exec(this.get('cseq') ?? '');
    return m ? { seq: Number(m[1]), method: m[2]!.toUpperCase() } : { seq: -1, method: '' };
  }

  from(): NameAddr | null {
    const v = this.get('from');
    return v === undefined ? null : parseNameAddr(v);
  }

  to(): NameAddr | null {
    const v = this.get('to');
    return v === undefined ? null : parseNameAddr(v);
  }

  vias(): Via[] {
    return this.getAll('via')
      .map(parseVia)
      .filter((v): v is Via => v !== null);
  }

  topVia(): Via | null {
    const v = this.get('via');
    return v === undefined ? null : parseVia(v);
  }

  contacts(): NameAddr[] {
    return this.getAll('contact')
      .map(parseNameAddr)
      .filter((c): c is NameAddr => c !== null);
  }
}

export class SipRequest extends SipMessageBase {
  readonly kind = 'request' as const;
  method: string;
  uri: string;

  constructor(method: string, uri: string, headers?: HeaderField[], body?: Buffer) {
    super(headers, body);
    this.method = method.toUpperCase();
    this.uri = uri;
  }

  requestUri(): SipUri | null {
    return parseUri(this.uri);
  }
}

export class SipResponse extends SipMessageBase {
  readonly kind = 'response' as const;
  status: number;
  reason: string;

  constructor(status: number, reason: string, headers?: HeaderField[], body?: Buffer) {
    super(headers, body);
    this.status = status;
    this.reason = reason;
  }
}

export type SipMessage = SipRequest | SipResponse;

export const EMPTY = Buffer.alloc(0);
