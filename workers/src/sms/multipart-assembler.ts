import type { SmsEncoding } from '@carillon/domain';

/**
 * Inbound concatenated messages put back together (3GPP TS 23.040 §9.2.3.24.1).
 * Parts are held in memory, keyed by sender, recipient, reference and count.
 * A remote peer decides how many parts it sends and whether it ever finishes,
 * so the store is bounded in messages, and a message incomplete after
 * `maxAgeMs` (or pushed out by newer ones) is handed on with the parts that
 * came and `complete: false`, rather than kept or dropped.
 */
export interface InboundPart {
  from: string;
  to: string;
  text: string;
  encoding: SmsEncoding;
  reference: number;
  total: number;
  sequence: number;
}

export interface AssembledMessage {
  from: string;
  to: string;
  text: string;
  encoding: SmsEncoding;
  parts: number;
  complete: boolean;
}

interface Pending {
  from: string;
  to: string;
  encoding: SmsEncoding;
  total: number;
  parts: Map<number, string>;
  firstAt: number;
}

export class MultipartAssembler {
  private readonly pending = new Map<string, Pending>();
  private readonly maxPending: number;
  private readonly maxAgeMs: number;

  constructor(options: { maxPending: number; maxAgeMs: number }) {
    this.maxPending = options.maxPending;
    this.maxAgeMs = options.maxAgeMs;
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Adds a part. Returns the messages this completes or pushes out: the
   * message itself once its last part is in, and any older one evicted.
   */
  add(part: InboundPart, now: number): AssembledMessage[] {
    const out = this.expire(now);
    const key = `${part.from}\u0000${part.to}\u0000${part.reference}\u0000${part.total}`;
    let entry = this.pending.get(key);
    if (!entry) {
      while (this.pending.size >= this.maxPending) {
        const [oldestKey, oldest] = this.pending.entries().next().value!;
        this.pending.delete(oldestKey);
        out.push(toMessage(oldest, false));
      }
      entry = { from: part.from, to: part.to, encoding: part.encoding, total: part.total, parts: new Map(), firstAt: now };
      this.pending.set(key, entry);
    }
    // A repeated part (the SMSC resending after a lost deliver_sm_resp) replaces itself: never counted twice.
    entry.parts.set(part.sequence, part.text);
    if (entry.parts.size === entry.total) {
      this.pending.delete(key);
      out.push(toMessage(entry, true));
    }
    return out;
  }

  /** Hands on the messages older than maxAgeMs, incomplete. */
  expire(now: number): AssembledMessage[] {
    const out: AssembledMessage[] = [];
    // Insertion order is age order: stop at the first one still young.
    for (const [key, entry] of this.pending) {
      if (now - entry.firstAt < this.maxAgeMs) break;
      this.pending.delete(key);
      out.push(toMessage(entry, false));
    }
    return out;
  }
}

function toMessage(entry: Pending, complete: boolean): AssembledMessage {
  const text = [...entry.parts.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, t]) => t)
    .join('');
  return { from: entry.from, to: entry.to, text, encoding: entry.encoding, parts: entry.parts.size, complete };
}
