import { z } from 'zod';

/**
 * Weekly schedules: a user's hours (seed 000 "Heures de l'utilisateur") and a
 * company's business hours (inventory 1 §12.2) are the same thing, "24 hours"
 * or ranges per week day, read in an IANA time zone.
 *
 * Times are wall-clock times of that zone, which is how people set them and
 * how daylight saving time is handled: on the night clocks go forward, a range
 * over the missing hour (02:00–03:00 in Europe/Paris on the last Sunday of
 * March) contains no instant at all; on the night they go back, both instants
 * that read 01:30 are within a 01:00–02:00 range.
 */
export const WEEK_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type WeekDay = (typeof WEEK_DAYS)[number];

const hhmm = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'a time as HH:MM');
/** A range may end at 24:00, the end of the day (23:59 would leave the last minute out). */
const hhmmEnd = z.string().regex(/^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/, 'a time as HH:MM (24:00 for the end of the day)');

export const timeRangeSchema = z
  .object({ from: hhmm, to: hhmmEnd })
  .strict()
  .refine((r) => r.from < r.to, { message: 'must end after it starts', path: ['to'] });
export type TimeRange = z.output<typeof timeRangeSchema>;

/** Ranges a day may have: "several a day" (a lunch break, a split shift), bounded. */
export const MAX_RANGES_PER_DAY = 4;

/** "24 heures" or specific hours: ranges in order, not overlapping; a day without ranges is outside hours. */
export const weeklyScheduleSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('24h') }).strict(),
  z
    .object({
      mode: z.literal('custom'),
      days: z
        .object(Object.fromEntries(WEEK_DAYS.map((d) => [d, z.array(timeRangeSchema).max(MAX_RANGES_PER_DAY).default([])])) as Record<WeekDay, z.ZodDefault<z.ZodArray<typeof timeRangeSchema>>>)
        .strict(),
    })
    .strict()
    .superRefine((h, ctx) => {
      for (const d of WEEK_DAYS) {
        const ranges = h.days[d];
        for (let i = 1; i < ranges.length; i++) {
          if (ranges[i]!.from < ranges[i - 1]!.to) ctx.addIssue({ code: 'custom', path: ['days', d, i, 'from'], message: 'ranges must be in order and not overlap' });
        }
      }
      // An empty schedule would never match: refused rather than saved as a rule that silently does nothing.
      if (WEEK_DAYS.every((d) => h.days[d].length === 0)) ctx.addIssue({ code: 'custom', path: ['days'], message: 'at least one day needs hours' });
    }),
]);
export type WeeklySchedule = z.output<typeof weeklyScheduleSchema>;

export const ALWAYS: WeeklySchedule = { mode: '24h' };

/** A moment as read on a wall clock of a time zone. */
export interface WallClock {
  /** YYYY-MM-DD */
  date: string;
  day: WeekDay;
  /** HH:MM, 00:00–23:59 */
  time: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // en-CA with hourCycle h23: digits we can read back, and midnight as 00 (never 24).
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', weekday: 'short', hourCycle: 'h23' });
    // Bounded: time zones are a fixed list (Intl.supportedValuesOf), and validation refuses others.
    if (formatters.size < 1000) formatters.set(timeZone, f);
  }
  return f;
}

const DAY_OF: Record<string, WeekDay> = { Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat', Sun: 'sun' };

/** The wall clock of `timeZone` at `at` (a RangeError for an unknown zone: validate zones on input). */
export function wallClock(at: Date, timeZone: string): WallClock {
  const parts = Object.fromEntries(formatterFor(timeZone).formatToParts(at).map((p) => [p.type, p.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, day: DAY_OF[parts.weekday!]!, time: `${parts.hour}:${parts.minute}` };
}

/** Whether the wall clock is within one of the day's ranges (from inclusive, to exclusive). */
export function scheduleContains(schedule: WeeklySchedule, clock: WallClock): boolean {
  if (schedule.mode === '24h') return true;
  return schedule.days[clock.day].some((r) => r.from <= clock.time && clock.time < r.to);
}

export function isWithinSchedule(schedule: WeeklySchedule, timeZone: string, at: Date): boolean {
  return scheduleContains(schedule, wallClock(at, timeZone));
}
