import { describe, expect, it } from 'vitest';
import { calendarInvite } from '../src/index.ts';
import { utf8Length } from '../src/utf8.ts';

const event = {
  uid: 'abc@carillon',
  start: new Date('2027-01-15T14:30:00.000Z'),
  durationMinutes: 90,
  summary: 'Budget, Q3; review \\ plan',
  description: 'Line one\nLine two — with a long tail of text that goes well past the seventy-five octets of one content line, and accents: éàç',
  location: '+14155550188 (access code 481516)',
  organizer: { name: 'Sam: the host', email: 'sam@x.test' },
  attendees: ['ann@guest.test', 'bob@guest.test'],
  stamp: new Date('2027-01-01T00:00:00.000Z'),
};

describe('calendarInvite (RFC 5545)', () => {
  const ics = calendarInvite(event);
  const lines = ics.split('\r\n');

  it('ends every content line with CRLF, the last one too, and has no bare LF', () => {
    expect(ics.endsWith('END:VCALENDAR\r\n')).toBe(true);
    expect(ics.replace(/\r\n/g, '')).not.toContain('\n');
  });

  it('folds lines longer than 75 octets (§3.1) without cutting a UTF-8 character', () => {
    for (const line of lines) expect(utf8Length(line), line).toBeLessThanOrEqual(75);
    const unfolded = ics.replace(/\r\n /g, '');
    expect(unfolded).toContain('accents: éàç\r\n');
    expect(lines.some((l) => l.startsWith(' '))).toBe(true);
  });

  it('writes times in UTC (§3.3.5) and the end from the duration', () => {
    expect(lines).toContain('DTSTART:20270115T143000Z');
    expect(lines).toContain('DTEND:20270115T160000Z');
    expect(lines).toContain('DTSTAMP:20270101T000000Z');
  });

  it('escapes TEXT values (§3.3.11) and quotes a parameter with a colon', () => {
    const unfolded = ics.replace(/\r\n /g, '').split('\r\n');
    expect(unfolded).toContain('SUMMARY:Budget\\, Q3\\; review \\\\ plan');
    expect(unfolded.find((l) => l.startsWith('DESCRIPTION:'))).toMatch(/^DESCRIPTION:Line one\\nLine two/);
    expect(unfolded).toContain('ORGANIZER;CN="Sam: the host":mailto:sam@x.test');
  });

  it('is a REQUEST (RFC 5546 §3.2.2) with every recipient an attendee who may answer', () => {
    expect(lines).toContain('METHOD:REQUEST');
    expect(lines.filter((l) => l.startsWith('ATTENDEE;')).length).toBe(2);
    expect(ics.replace(/\r\n /g, '').split('\r\n')).toContain('ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:ann@guest.test');
  });
});
