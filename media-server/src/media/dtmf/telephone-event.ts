/**
 * RFC 4733 §2.3 telephone-event payload:
 *   event (8) | E (1) | R (1) | volume (6) | duration (16)
 * Volume is in −dBm0 (0–63); duration in RTP timestamp units since the event began.
 */
export const TELEPHONE_EVENT_LENGTH = 4;

export interface TelephoneEvent {
  event: number;
  end: boolean;
  volume: number;
  duration: number;
}

/** Reads the first event block of a payload; null when there are fewer than 4 bytes. */
export function parseTelephoneEvent(
  buf: Uint8Array,
  offset = 0,
  length = buf.length - offset,
  into: TelephoneEvent = { event: 0, end: false, volume: 0, duration: 0 },
): TelephoneEvent | null {
  if (length < TELEPHONE_EVENT_LENGTH || offset + TELEPHONE_EVENT_LENGTH > buf.length) return null;
  into.event = buf[offset]!;
  into.end = (buf[offset + 1]! & 0x80) !== 0;
  into.volume = buf[offset + 1]! & 0x3f;
  into.duration = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  return into;
}

export function writeTelephoneEvent(buf: Uint8Array, event: TelephoneEvent, offset = 0): number {
  buf[offset] = event.event & 0xff;
  buf[offset + 1] = (event.end ? 0x80 : 0) | (event.volume & 0x3f);
  const duration = Math.min(0xffff, Math.max(0, Math.round(event.duration)));
  buf[offset + 2] = duration >> 8;
  buf[offset + 3] = duration & 0xff;
  return TELEPHONE_EVENT_LENGTH;
}
