import { utf8Length } from './utf8.ts';

/**
 * One meeting as an iCalendar object (RFC 5545), for e-mail invitations
 * (iTIP REQUEST, RFC 5546 §3.2.2): what calendar clients import with an
 * accept button. Times are written in UTC (§3.3.5 form 2), so no VTIMEZONE
 * is needed; the reader shows them in its own zone.
 */
export interface CalendarEvent {
  /** Globally unique (§3.8.4.7): the same uid updates the same event. */
  uid: string;
  start: Date;
  durationMinutes: number;
  summary: string;
  description: string;
  location: string;
  organizer: { name: string; email: string };
  attendees: readonly string[];
  /** DTSTAMP (§3.8.7.2): when the object was made. */
  stamp: Date;
}

/** §3.3.5: 19980119T070000Z. */
function utc(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** §3.3.11: backslash, semicolon, comma and newline are escaped in TEXT values. */
function text(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');
}

/** §3.3.11 / §3.2: a parameter value with a colon, semicolon or comma is quoted, and a quote cannot appear in it. */
function param(value: string): string {
  const clean = value.replace(/"/g, "'");
  return /[:;,]/.test(clean) ? `"${clean}"` : clean;
}

/** §3.1: lines longer than 75 octets are folded (CRLF, then a space), never inside a UTF-8 sequence. */
function fold(line: string): string {
  const out: string[] = [];
  let current = '';
  let octets = 0;
  for (const ch of line) {
    const size = utf8Length(ch);
    // A continuation line starts with its space: 74 octets of content.
    if (octets + size > (out.length === 0 ? 75 : 74)) {
      out.push(current);
      current = '';
      octets = 0;
    }
    current += ch;
    octets += size;
  }
  out.push(current);
  return out.join('\r\n ');
}

export function calendarInvite(e: CalendarEvent): string {
  const end = new Date(e.start.getTime() + e.durationMinutes * 60_000);
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Carillon//Conference//EN',
    'METHOD:REQUEST',
    'BEGIN:VEVENT',
    `UID:${e.uid}`,
    `DTSTAMP:${utc(e.stamp)}`,
    `DTSTART:${utc(e.start)}`,
    `DTEND:${utc(end)}`,
    `SUMMARY:${text(e.summary)}`,
    `DESCRIPTION:${text(e.description)}`,
    `LOCATION:${text(e.location)}`,
    `ORGANIZER;CN=${param(e.organizer.name)}:mailto:${e.organizer.email}`,
    ...e.attendees.map((a) => `ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${a}`),
    'STATUS:CONFIRMED',
    'SEQUENCE:0',
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  // §3.1: content lines end with CRLF, the last one too.
  return lines.map(fold).join('\r\n') + '\r\n';
}
