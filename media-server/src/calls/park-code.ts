/**
 * The in-call park code (issue 15 point 4, "park … with a code"): during an answered call a party keys
 * `*8`, the park location's number and `#`; the other party is parked there, as by a blind transfer to
 * the location, and the one who keyed it is released. The seeds give no code: `*8` sits beside the
 * in-call `*9` (on-demand recording) and reads as "park" on the keypad of most phones' park keys.
 * The digits come from each side's DTMF (RFC 4733 or SIP INFO), on the same side, with at most
 * `gapMs` between two of them; anything else in between starts over.
 */
export const PARK_CODE_PREFIX = '*8';
/** A location is an extension number: at most 9 digits (the dial plan's own bound). */
const MAX_LOCATION_DIGITS = 9;

export class ParkCodeDetector {
  private readonly gapMs: number;
  /** Per side: what has been keyed of the code so far, and when its last digit came. */
  private readonly keyed = new Map<string, { digits: string; at: number }>();

  constructor(gapMs = 3000) {
    this.gapMs = gapMs;
  }

  /** Feeds one digit of `side`; the location's number once a whole code (`*8` + digits + `#`) was keyed. */
  feed(side: string, digit: string, now = Date.now()): string | null {
    const so = this.keyed.get(side);
    const sofar = so && now - so.at <= this.gapMs ? so.digits : '';
    if (digit === '*') {
      // A star always (re)starts a code.
      this.keyed.set(side, { digits: '*', at: now });
      return null;
    }
    if (sofar === '') {
      this.keyed.delete(side);
      return null;
    }
    if (digit === '#' && sofar.length > PARK_CODE_PREFIX.length) {
      this.keyed.delete(side);
      return sofar.slice(PARK_CODE_PREFIX.length);
    }
    const next = sofar + digit;
    const fits = next.length <= PARK_CODE_PREFIX.length ? PARK_CODE_PREFIX.startsWith(next) : /^[0-9]$/.test(digit) && next.length <= PARK_CODE_PREFIX.length + MAX_LOCATION_DIGITS;
    if (fits) this.keyed.set(side, { digits: next, at: now });
    else this.keyed.delete(side);
    return null;
  }
}
