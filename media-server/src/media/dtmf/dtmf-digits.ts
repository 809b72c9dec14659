/** DTMF digits: RFC 4733 event codes 0–15 and their ITU-T Q.23 frequency pairs. */
export const DTMF_DIGITS = '0123456789*#ABCD';

export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

export function isDtmfDigit(value: string): value is DtmfDigit {
  return value.length === 1 && DTMF_DIGITS.includes(value.toUpperCase()) && value === value.toUpperCase();
}

/** RFC 4733 §3.2 event code of a digit; -1 for anything else. */
export function dtmfEventCode(digit: string): number {
  return digit.length === 1 ? DTMF_DIGITS.indexOf(digit.toUpperCase()) : -1;
}

/** The digit of an event code, or null for codes that are not DTMF (16 and up: flash, fax tones…). */
export function dtmfDigitOf(eventCode: number): DtmfDigit | null {
  return eventCode >= 0 && eventCode < 16 ? (DTMF_DIGITS[eventCode] as DtmfDigit) : null;
}

export const DTMF_ROW_HZ = [697, 770, 852, 941] as const;
export const DTMF_COLUMN_HZ = [1209, 1336, 1477, 1633] as const;
const KEYPAD = ['123A', '456B', '789C', '*0#D'];

/** [row, column] frequencies of a digit. */
export function dtmfFrequencies(digit: DtmfDigit): [number, number] {
  for (let r = 0; r < 4; r++) {
    const c = KEYPAD[r]!.indexOf(digit);
    if (c >= 0) return [DTMF_ROW_HZ[r]!, DTMF_COLUMN_HZ[c]!];
  }
  throw new RangeError(`not a DTMF digit: ${digit}`);
}

export function dtmfDigitAt(row: number, column: number): DtmfDigit {
  return KEYPAD[row]![column] as DtmfDigit;
}
