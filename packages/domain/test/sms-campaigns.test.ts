import { describe, expect, it } from 'vitest';
import {
  campaignListErrorMessage,
  campaignRowErrorMessage,
  campaignStartInstant,
  instantOfWallClock,
  isQuietTime,
  nextAllowedSendTime,
  nextLocalMidnight,
  parseCsv,
  readCampaignList,
  renderTemplate,
  templateFields,
} from '@carillon/domain';

describe('campaign templates', () => {
  it('lists the fields a template names, once each', () => {
    expect(templateFields('Hi {{firstName}}, your {{ item }} is ready, {{firstName}}!')).toEqual(['firstName', 'item']);
    expect(templateFields('No field here, {not one} {{}}')).toEqual([]);
  });

  it('fills every field, trimmed', () => {
    expect(renderTemplate('Hi {{firstName}}, see you at {{ time }}.', { firstName: ' Ada ', time: '10:00' })).toEqual({ ok: true, text: 'Hi Ada, see you at 10:00.' });
  });

  it('names the fields that are missing or blank instead of sending a hole', () => {
    expect(renderTemplate('Hi {{firstName}} {{lastName}}', { firstName: '  ' })).toEqual({ ok: false, missing: ['firstName', 'lastName'] });
  });
});

describe('CSV (RFC 4180)', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, CRLF or LF, and numbers records by their first line', () => {
    const csv = '\ufeffphone,note\r\n+14155550001,"a, b"\r\n+14155550002,"say ""hi""\nthere"\n\n+14155550003,plain\n';
    expect(parseCsv(csv)).toEqual([
      { line: 1, cells: ['phone', 'note'] },
      { line: 2, cells: ['+14155550001', 'a, b'] },
      { line: 3, cells: ['+14155550002', 'say "hi"\nthere'] },
      { line: 6, cells: ['+14155550003', 'plain'] },
    ]);
  });

  it('refuses a quoted field that never closes', () => {
    expect(parseCsv('phone,note\n+14155550001,"open')).toBeNull();
  });
});

describe('a campaign list against its template', () => {
  const template = 'Hi {{firstName}}, your table for {{guests}} is booked.';

  it('keeps every good row and reports each bad one with its line', () => {
    const csv = [
      'Phone,firstName,guests',
      '+14155550001,Ada,2',
      'not a number,Bob,3',
      '(415) 555-0003,Cy,4',
      '+14155550004,,5',
      '+14155550001,Ada again,2',
      ',Dee,1',
      '4155550005,Eve,6',
    ].join('\n');
    const list = readCampaignList(csv, template);
    expect(list.ok).toBe(true);
    if (!list.ok) return;
    expect(list.recipients).toEqual([
      { line: 2, phone: '+14155550001', fields: { firstName: 'Ada', guests: '2' }, text: 'Hi Ada, your table for 2 is booked.' },
      { line: 4, phone: '+14155550003', fields: { firstName: 'Cy', guests: '4' }, text: 'Hi Cy, your table for 4 is booked.' },
      { line: 8, phone: '+14155550005', fields: { firstName: 'Eve', guests: '6' }, text: 'Hi Eve, your table for 6 is booked.' },
    ]);
    expect(list.errors).toEqual([
      { line: 3, code: 'invalid_number', value: 'not a number' },
      { line: 5, code: 'missing_field', number: '+14155550004', fields: ['firstName'] },
      { line: 6, code: 'duplicate_number', number: '+14155550001', firstLine: 2 },
      { line: 7, code: 'invalid_number', value: '' },
    ]);
    expect(list.errors.map(campaignRowErrorMessage)).toEqual([
      'line 3: not a number is not a phone number',
      'line 5: missing firstName',
      'line 6: +14155550001 is already on line 2',
      'line 7: no phone number',
    ]);
  });

  it('refuses a row whose filled-in text is longer than 10 segments', () => {
    const list = readCampaignList(`phone,firstName,guests\n+14155550001,${'x'.repeat(1600)},2\n+14155550002,Al,2`, template);
    expect(list.ok && list.errors).toEqual([{ line: 2, code: 'too_long', number: '+14155550001', segments: 11, max: 10 }]);
  });

  it('refuses the whole file only when it cannot be a list', () => {
    const cases: [string, string, Record<string, number>, string, RegExp][] = [
      ['no number column', 'name,firstName\nx,y', {}, 'no_phone_column', /no phone number column/],
      ['a template field no column has', 'phone,firstName\n+14155550001,Ada', {}, 'missing_column', /\{\{guests\}\}, which no column provides/],
      ['nothing under the header', 'phone,firstName,guests\n', {}, 'empty', /no row/],
      ['too many rows', 'phone,firstName,guests\n+14155550001,A,1\n+14155550002,B,1\n+14155550003,C,1', { maxRows: 2 }, 'too_many_rows', /3 rows; at most 2/],
      ['too large', 'phone,firstName,guests\n+14155550001,A,1', { maxBytes: 10 }, 'too_large', /at most/],
      ['no good row', 'phone,firstName,guests\nnope,A,1', {}, 'no_valid_row', /line 2: nope is not a phone number/],
      ['unreadable', 'phone,firstName,guests\n+14155550001,"A,1', {}, 'unreadable', /not valid CSV/],
    ];
    for (const [what, csv, limits, code, message] of cases) {
      const list = readCampaignList(csv, template, limits);
      expect(list.ok, what).toBe(false);
      if (list.ok) continue;
      expect(list.error.code, what).toBe(code);
      expect(campaignListErrorMessage(list.error), what).toMatch(message);
    }
  });

  it('counts the size in UTF-8 bytes', () => {
    // 'é' is two bytes: 3 of them are 6 bytes, over a 5-byte limit though only 3 characters.
    const list = readCampaignList('ééé', 'x', { maxBytes: 5 });
    expect(list).toEqual({ ok: false, error: { code: 'too_large', bytes: 6, max: 5 } });
  });
});

describe('quiet hours on the account’s wall clock', () => {
  const night = { start: '21:00', end: '08:00' };
  const lunch = { start: '12:00', end: '13:30' };

  it('knows quiet times, start inclusive, end exclusive, across midnight', () => {
    expect([isQuietTime(night, '20:59'), isQuietTime(night, '21:00'), isQuietTime(night, '03:00'), isQuietTime(night, '07:59'), isQuietTime(night, '08:00')]).toEqual([false, true, true, true, false]);
    expect([isQuietTime(lunch, '11:59'), isQuietTime(lunch, '12:00'), isQuietTime(lunch, '13:29'), isQuietTime(lunch, '13:30')]).toEqual([false, true, true, false]);
  });

  it('lets a send through outside quiet hours, or with none', () => {
    const at = new Date('2026-03-10T15:00:00Z'); // 11:00 in New York (EDT)
    expect(nextAllowedSendTime(at, 'America/New_York', night)).toEqual(at);
    expect(nextAllowedSendTime(at, 'America/New_York', null)).toEqual(at);
  });

  it('defers an evening send to the next morning, and a night one to the same morning', () => {
    // 22:30 in Paris (CET, UTC+1) → 08:00 the next day, 07:00 UTC.
    expect(nextAllowedSendTime(new Date('2026-01-15T21:30:00Z'), 'Europe/Paris', night)).toEqual(new Date('2026-01-16T07:00:00Z'));
    // 02:00 in Paris → 08:00 the same day.
    expect(nextAllowedSendTime(new Date('2026-01-15T01:00:00Z'), 'Europe/Paris', night)).toEqual(new Date('2026-01-15T07:00:00Z'));
    // A daytime window ends the same day.
    expect(nextAllowedSendTime(new Date('2026-01-15T11:15:00Z'), 'Europe/Paris', lunch)).toEqual(new Date('2026-01-15T12:30:00Z'));
  });

  it('follows a DST change: the morning after a spring-forward night is one hour earlier in UTC', () => {
    // Night of 7 to 8 March 2026 in New York: EST (UTC-5) until 02:00, then EDT (UTC-4).
    expect(nextAllowedSendTime(new Date('2026-03-08T03:00:00Z'), 'America/New_York', night)).toEqual(new Date('2026-03-08T12:00:00Z'));
    expect(nextAllowedSendTime(new Date('2026-03-07T03:00:00Z'), 'America/New_York', night)).toEqual(new Date('2026-03-07T13:00:00Z'));
  });

  it('maps a wall-clock time that a spring-forward skips to the first minute after the gap', () => {
    expect(instantOfWallClock('2026-03-08', '02:30', 'America/New_York')).toEqual(new Date('2026-03-08T07:00:00Z'));
  });

  it('reads a campaign start typed in the account’s zone, and the next local midnight', () => {
    expect(campaignStartInstant('2026-07-01T09:30', 'America/Los_Angeles')).toEqual(new Date('2026-07-01T16:30:00Z'));
    expect(() => campaignStartInstant('tomorrow', 'UTC')).toThrow(RangeError);
    expect(nextLocalMidnight(new Date('2026-07-01T16:30:00Z'), 'America/Los_Angeles')).toEqual(new Date('2026-07-02T07:00:00Z'));
  });
});
