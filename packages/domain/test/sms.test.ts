import { describe, expect, it } from 'vitest';
import { decodeSms, measureSms, parseSmsRecipients, readUdh, smsContactKey, smsKeywordOf, splitSms, SmsTooLongError, SMS_MAX_SEGMENTS } from '@carillon/domain';

describe('SMS segmentation (GSM 03.38 / UCS-2, 3GPP TS 23.040 concatenation)', () => {
  it('counts a single GSM-7 segment and what is left of it', () => {
    expect(measureSms('Hello')).toEqual({ encoding: 'gsm7', length: 5, segments: 1, charactersLeft: 155, perSegment: 160 });
    expect(measureSms('x'.repeat(160))).toMatchObject({ segments: 1, charactersLeft: 0 });
    expect(measureSms('x'.repeat(161))).toMatchObject({ segments: 2, charactersLeft: 153 * 2 - 161, perSegment: 153 });
  });

  it('counts extension-table characters as two septets', () => {
    expect(measureSms('€[]')).toMatchObject({ encoding: 'gsm7', length: 6 });
    // 159 septets plus a 2-septet euro: 161 > 160, so two segments.
    expect(measureSms('a'.repeat(159) + '€')).toMatchObject({ encoding: 'gsm7', segments: 2 });
  });

  it('splits a 400-character message into 3 GSM-7 segments with a correct UDH', () => {
    const text = Array.from({ length: 400 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const split = splitSms(text, 0x42);
    expect(split.encoding).toBe('gsm7');
    expect(split.dataCoding).toBe(0);
    expect(split.segments).toHaveLength(3);
    expect(split.segments.map((s) => s.payload.length)).toEqual([153, 153, 94]);
    split.segments.forEach((s, i) => expect([...s.udh!]).toEqual([0x05, 0x00, 0x03, 0x42, 3, i + 1]));
    expect(split.segments.map((s) => s.text).join('')).toBe(text);
    // What a receiver does: read the UDH, decode the body, join in sequence order.
    const joined = split.segments
      .map((s) => readUdh(Uint8Array.from([...s.udh!, ...s.payload]))!)
      .sort((a, b) => a.concatenation!.sequence - b.concatenation!.sequence)
      .map((r) => decodeSms(r.body, 'gsm7'))
      .join('');
    expect(joined).toBe(text);
  });

  it('sends the same 400 characters as UCS-2 once an emoji is in, never splitting the surrogate pair', () => {
    const text = 'a'.repeat(66) + '😀' + 'b'.repeat(333);
    expect(measureSms(text)).toMatchObject({ encoding: 'ucs2', length: 401, segments: 6 });
    const split = splitSms(text, 7);
    expect(split.encoding).toBe('ucs2');
    expect(split.dataCoding).toBe(8);
    // 66 units + a 2-unit emoji would be 68 > 67: the emoji starts the second segment whole.
    expect(split.segments[0]!.text).toBe('a'.repeat(66));
    expect(split.segments[1]!.text.startsWith('😀')).toBe(true);
    expect(split.segments.every((s) => s.payload.length <= 134)).toBe(true);
    expect(split.segments.map((s) => decodeSms(s.payload, 'ucs2')).join('')).toBe(text);
  });

  it('never splits a GSM-7 escape pair across segments', () => {
    const text = 'a'.repeat(152) + '€' + 'b'.repeat(10);
    const split = splitSms(text, 1);
    expect(split.segments[0]!.payload.length).toBe(152);
    expect(split.segments[1]!.text.startsWith('€')).toBe(true);
  });

  it('refuses more than the maximum number of segments, and an empty message', () => {
    expect(() => splitSms('x'.repeat(153 * SMS_MAX_SEGMENTS + 1), 0)).toThrow(SmsTooLongError);
    expect(() => splitSms('', 0)).toThrow(RangeError);
    expect(() => splitSms('x', 256)).toThrow(RangeError);
  });

  it('reads 16-bit concatenation references and refuses a UDH that overruns the message', () => {
    expect(readUdh(Uint8Array.of(0x06, 0x08, 0x04, 0x12, 0x34, 2, 1, 0x41))).toEqual({ concatenation: { reference: 0x1234, total: 2, sequence: 1 }, body: Uint8Array.of(0x41) });
    expect(readUdh(Uint8Array.of(0x09, 0x00, 0x03))).toBeNull();
    expect(readUdh(Uint8Array.of(0x05, 0x00, 0x03, 1, 2, 3))!.concatenation).toBeNull();
  });
});

describe('opt-out keywords', () => {
  it.each([
    ['STOP', 'opt-out'],
    [' stop. ', 'opt-out'],
    ['Arrêt', 'opt-out'],
    ['ARRET', 'opt-out'],
    ['start', 'opt-in'],
    ['HELP', 'help'],
    ['aide', 'help'],
    ['please stop by tomorrow', null],
    ['STOPPED', null],
  ])('%j → %s', (body, keyword) => {
    expect(smsKeywordOf(body)).toBe(keyword);
  });
});

describe('recipients of a new text (inventory 3 §13.3–13.4)', () => {
  const nanp = (n: number, area = '415') => `+1${area}555${String(n).padStart(4, '0')}`;

  it('takes numbers separated by commas or semicolons, as typed', () => {
    expect(parseSmsRecipients(' (415) 555-0101 ; +1 415 555 0102, 14155550103,,+33612345678 ', false)).toEqual({ ok: true, numbers: ['+14155550101', '+14155550102', '+14155550103', '+33612345678'] });
  });

  it('allows 10 in a group text and refuses 11', () => {
    const ten = Array.from({ length: 10 }, (_, i) => nanp(i)).join(',');
    expect(parseSmsRecipients(ten, true)).toMatchObject({ ok: true });
    expect(parseSmsRecipients(`${ten},${nanp(10)}`, true)).toEqual({ ok: false, errors: [{ code: 'too_many', max: 10, count: 11 }] });
  });

  it('allows 100 individual texts and refuses 101', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => nanp(i)).join(';');
    expect(parseSmsRecipients(hundred, false)).toMatchObject({ ok: true });
    expect(parseSmsRecipients(`${hundred};${nanp(100)}`, false)).toEqual({ ok: false, errors: [{ code: 'too_many', max: 100, count: 101 }] });
  });

  it('refuses a non-US number in a group text, naming it, but not in individual texts', () => {
    expect(parseSmsRecipients(`${nanp(1)}, +33612345678`, true)).toEqual({ ok: false, errors: [{ code: 'group_outside_us_ca_pr', entry: '+33612345678' }] });
    // +1 876 is Jamaica: North American numbering, but not the US, Canada or Puerto Rico.
    expect(parseSmsRecipients(`${nanp(1, '876')}`, true)).toMatchObject({ ok: false, errors: [{ code: 'group_outside_us_ca_pr' }] });
    expect(parseSmsRecipients(`${nanp(1, '787')}, ${nanp(2, '604')}`, true)).toMatchObject({ ok: true });
    expect(parseSmsRecipients('+33612345678', false)).toMatchObject({ ok: true });
  });

  it('names what is not a number, and refuses an empty list', () => {
    expect(parseSmsRecipients('4155550101, 555-01', false)).toEqual({ ok: false, errors: [{ code: 'invalid_number', entry: '555-01' }] });
    expect(parseSmsRecipients('4155550101, call me', false)).toEqual({ ok: false, errors: [{ code: 'unknown_contact', entry: 'call me' }] });
    expect(parseSmsRecipients(' ; , ', true)).toEqual({ ok: false, errors: [{ code: 'empty' }] });
  });

  it('takes contacts by name, whatever the case and spacing, and refuses a name two numbers share', () => {
    const contacts = new Map([
      [smsContactKey('Alice Martin'), ['(415) 555-0111']],
      [smsContactKey('Acme Corp'), ['+14155550112', '4155550112']],
      [smsContactKey('Bob Stone'), ['4155550113', '+14155550114']],
      [smsContactKey('Desk'), ['12']],
    ]);
    expect(parseSmsRecipients('alice  MARTIN; Acme Corp, +14155550111', true, contacts)).toEqual({ ok: true, numbers: ['+14155550111', '+14155550112'] });
    expect(parseSmsRecipients('Bob Stone, Carol King, Desk', false, contacts)).toEqual({
      ok: false,
      errors: [
        { code: 'ambiguous_contact', entry: 'Bob Stone', count: 2 },
        { code: 'unknown_contact', entry: 'Carol King' },
        { code: 'invalid_number', entry: 'Desk (12)' },
      ],
    });
  });
});
