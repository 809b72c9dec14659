import { wallClock } from './answering-rules/schedule.ts';

/**
 * Quiet hours of high-volume campaigns (issue 18, deliverable 2): a daily
 * window, on the account's wall clock, during which no campaign text is
 * sent; sending resumes at the window's end. The window may wrap past
 * midnight (21:00–08:00). Times are 'HH:MM', the start inclusive and the end
 * exclusive, like the answering-rules schedules.
 */
export interface SmsQuietHours {
  start: string;
  end: string;
}

const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

export function isValidQuietHours(q: SmsQuietHours): boolean {
  return HHMM.test(q.start) && HHMM.test(q.end) && q.start !== q.end;
}

/** Whether the wall-clock time 'HH:MM' falls in the quiet window. */
export function isQuietTime(q: SmsQuietHours, time: string): boolean {
  if (q.start === q.end) return false;
  return q.start < q.end ? q.start <= time && time < q.end : time >= q.start || time < q.end;
}

/** 'YYYY-MM-DD' plus `days`, on the calendar (no time zone involved). */
export function addCalendarDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/**
 * The instant at which the wall clock of `timeZone` reads `date` `time`.
 * Found by correcting a UTC guess with the zone's offset, twice (the offset
 * may differ on either side of a DST change). In a spring-forward gap (a
 * time that does not exist that day) it is the first instant after the gap.
 */
export function instantOfWallClock(date: string, time: string, timeZone: string): Date {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi] = time.split(':').map(Number) as [number, number];
  const target = Date.UTC(y, mo - 1, d, h, mi);
  let guess = target;
  for (let i = 0; i < 3; i++) {
    const seen = wallClockMs(new Date(guess), timeZone);
    if (seen === target) return new Date(guess);
    guess += target - seen;
  }
  // No instant reads that time (the gap of a spring-forward): the first minute after it.
  // Offsets lie within -12 h..+14 h, so 14 h before the target the wall clock reads earlier still.
  let after = target - 14 * 3600_000;
  while (wallClockMs(new Date(after), timeZone) < target) after += 60_000;
  return new Date(after);
}

function wallClockMs(at: Date, timeZone: string): number {
  const c = wallClock(at, timeZone);
  const [y, mo, d] = c.date.split('-').map(Number) as [number, number, number];
  const [h, mi] = c.time.split(':').map(Number) as [number, number];
  return Date.UTC(y, mo - 1, d, h, mi);
}

/**
 * The first instant at or after `at` when a campaign may send: `at` itself
 * outside quiet hours, else the end of the current quiet window (today's, or
 * tomorrow's when the window wraps past midnight and started this evening).
 */
export function nextAllowedSendTime(at: Date, timeZone: string, quiet: SmsQuietHours | null): Date {
  if (!quiet || !isQuietTime(quiet, wallClock(at, timeZone).time)) return at;
  const clock = wallClock(at, timeZone);
  const endDate = quiet.start > quiet.end && clock.time >= quiet.start ? addCalendarDays(clock.date, 1) : clock.date;
  const end = instantOfWallClock(endDate, quiet.end, timeZone);
  return end.getTime() > at.getTime() ? end : at;
}

/** The next local midnight after `at`: when a per-day counter starts again. */
export function nextLocalMidnight(at: Date, timeZone: string): Date {
  return instantOfWallClock(addCalendarDays(wallClock(at, timeZone).date, 1), '00:00', timeZone);
}

/** A campaign's start typed on the account's wall clock ('YYYY-MM-DDTHH:MM') as an instant. */
export function campaignStartInstant(local: string, timeZone: string): Date {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})$/.exec(local);
  if (!m) throw new RangeError(`not a local date and time: ${local}`);
  return instantOfWallClock(m[1]!, m[2]!, timeZone);
}
