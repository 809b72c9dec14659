/**
 * Turns a stream of RFC 4733 telephone-event packets into digits, each
 * reported once. Senders repeat an event every packet time while the key is
 * down and send its end three times; all packets of one event share its RTP
 * timestamp (§2.5.1), which is what tells one press from the next, even of
 * the same key. The digit is reported at its end, with its duration; when
 * every end packet is lost, the next event or flush() reports it.
 */
import { dtmfDigitOf, type DtmfDigit } from './dtmf-digits.ts';
import { parseTelephoneEvent, type TelephoneEvent } from './telephone-event.ts';

export type DtmfDigitListener = (digit: DtmfDigit, durationMs: number) => void;

export class TelephoneEventReceiver {
  private readonly clockRate: number;
  private readonly onDigit: DtmfDigitListener;
  private readonly parsed: TelephoneEvent = { event: 0, end: false, volume: 0, duration: 0 };
  private active = false;
  private activeTimestamp = 0;
  private activeEvent = 0;
  private activeDuration = 0;
  private lastActivityMs = 0;
  /** Timestamp of the last event reported: its repeated end packets, and anything older, are ignored. */
  private reportedTimestamp = -1;

  constructor(clockRate: number, onDigit: DtmfDigitListener) {
    this.clockRate = clockRate;
    this.onDigit = onDigit;
  }

  /** Feeds one packet's payload; `nowMs` is any monotonic clock, used by flush(). */
  receive(timestamp: number, payload: Uint8Array, offset: number, length: number, nowMs: number, marker = false): void {
    const e = parseTelephoneEvent(payload, offset, length, this.parsed);
    if (!e) return;
    if (this.reportedTimestamp >= 0 && !isAfter(timestamp, this.reportedTimestamp)) {
      // Packets of past events (repeated ends, late arrivals) are ignored. Only a start of event
      // (marker bit, RFC 4733 §2.5.1.3) on another timestamp is a new press: some senders reuse
      // or rewind timestamps on one SSRC (replayed captures, gateways), and a press is a press.
      if (!(marker && timestamp !== this.reportedTimestamp)) return;
      this.reportedTimestamp = -1;
    }
    if (this.active && timestamp !== this.activeTimestamp) {
      // A new event began before the previous one's end arrived.
      this.report();
    }
    if (!this.active) {
      this.active = true;
      this.activeTimestamp = timestamp;
      this.activeEvent = e.event;
      this.activeDuration = 0;
    }
    // Durations only grow within an event; a reordered older update must not shrink it.
    if (e.duration > this.activeDuration) this.activeDuration = e.duration;
    this.lastActivityMs = nowMs;
    if (e.end) this.report();
  }

  /** Reports an event whose packets stopped without an end, after `silenceMs` without packets. */
  flush(nowMs: number, silenceMs = 500): void {
    if (this.active && nowMs - this.lastActivityMs >= silenceMs) this.report();
  }

  /** Forgets the event history, for a new source whose timestamps start elsewhere. */
  reset(): void {
    this.active = false;
    this.reportedTimestamp = -1;
  }

  private report(): void {
    this.active = false;
    this.reportedTimestamp = this.activeTimestamp;
    const digit = dtmfDigitOf(this.activeEvent);
    if (digit) this.onDigit(digit, Math.round((this.activeDuration * 1000) / this.clockRate));
  }
}

/** RTP timestamp order with wraparound (RFC 1982 serial arithmetic). */
function isAfter(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}
