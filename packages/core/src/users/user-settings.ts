import { z } from 'zod';
import { isTimeZone, LANGUAGES, TIME_FORMATS } from '@carillon/domain';

/**
 * The shapes of a user's settings (seed 000 "Détails de l'utilisateur",
 * "Heures de l'utilisateur", "ID de l'appelant sortant", "Notifications",
 * "Gestion et renvoi des appels"), shared by the API that edits them, the
 * templates that carry them and the worker that applies templates.
 */

const hhmm = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'a time as HH:MM');
const range = z
  .object({ from: hhmm, to: hhmm })
  .strict()
  .refine((r) => r.from < r.to, { message: 'must end after it starts', path: ['to'] });
export const WEEK_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type WeekDay = (typeof WEEK_DAYS)[number];

/** "24 heures" or specific hours: up to 4 ranges a day, in order, not overlapping; a day without ranges is outside hours. */
export const userHoursSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('24h') }).strict(),
  z
    .object({
      mode: z.literal('custom'),
      days: z.object(Object.fromEntries(WEEK_DAYS.map((d) => [d, z.array(range).max(4).default([])])) as Record<WeekDay, z.ZodDefault<z.ZodArray<typeof range>>>).strict(),
    })
    .strict()
    .superRefine((h, ctx) => {
      for (const d of WEEK_DAYS) {
        const ranges = h.days[d];
        for (let i = 1; i < ranges.length; i++) {
          if (ranges[i]!.from < ranges[i - 1]!.to) ctx.addIssue({ code: 'custom', path: ['days', d, i, 'from'], message: 'ranges must be in order and not overlap' });
        }
      }
      if (WEEK_DAYS.every((d) => h.days[d].length === 0)) ctx.addIssue({ code: 'custom', path: ['days'], message: 'at least one day needs hours' });
    }),
]);
export type UserHours = z.output<typeof userHoursSchema>;

export const regionalSchema = z
  .object({
    timeZone: z.string().refine(isTimeZone, 'not a known time zone'),
    language: z.enum(LANGUAGES),
    timeFormat: z.enum(TIME_FORMATS),
  })
  .strict();
export type RegionalSettings = z.output<typeof regionalSchema>;

const notify = z.object({ email: z.boolean() }).strict();
const notifyWithAttachment = z.object({ email: z.boolean(), attachment: z.boolean(), markRead: z.boolean() }).strict();

/** Seed 000 "Notifications": what the user is e-mailed about. */
export const notificationsSchema = z
  .object({
    voicemail: notifyWithAttachment,
    fax: notifyWithAttachment,
    missedCalls: notify,
    faxResults: notify,
    textMessages: notify,
  })
  .strict();
export type NotificationSettings = z.output<typeof notificationsSchema>;

export const DEFAULT_NOTIFICATIONS: NotificationSettings = {
  voicemail: { email: true, attachment: false, markRead: false },
  fax: { email: true, attachment: true, markRead: false },
  missedCalls: { email: false },
  faxResults: { email: true },
  textMessages: { email: false },
};

/** Stored settings read through the schema, so an older or partial row shows the defaults. */
export function notificationsOf(stored: unknown): NotificationSettings {
  const merged = { ...DEFAULT_NOTIFICATIONS, ...(stored && typeof stored === 'object' ? stored : {}) };
  const parsed = notificationsSchema.safeParse(merged);
  return parsed.success ? parsed.data : DEFAULT_NOTIFICATIONS;
}

/** The features of seed 000 "ID de l'appelant sortant" that each have their own caller ID. */
export const CALLER_ID_FEATURES = [
  'ringout_web',
  'ringme',
  'call_flip',
  'fax_number',
  'mobile_app',
  'desktop_app',
  'common_phone',
  'delegated',
  'alternate',
] as const;
export type CallerIdFeature = (typeof CALLER_ID_FEATURES)[number];

/** A number of the account (its id), or 'blocked'; a feature left out is "not specified". */
export const callerIdValue = z.union([z.uuid(), z.literal('blocked')]);
export const callerIdByFeatureSchema = z.partialRecord(z.enum(CALLER_ID_FEATURES), callerIdValue);
export type CallerIdByFeature = z.output<typeof callerIdByFeatureSchema>;

/** Seed 000 "Gestion et renvoi des appels", the Settings tab: how the user's phones ring. */
export const callHandlingSchema = z
  .object({
    ringMode: z.enum(['sequential', 'simultaneous']),
    notifyApps: z.boolean(),
    /** 1 ring = 5 seconds, as the seed shows "1 Ring / 5 Secs". */
    waitRings: z.int().min(1).max(15),
  })
  .strict();
export type CallHandling = z.output<typeof callHandlingSchema>;
export const DEFAULT_CALL_HANDLING: CallHandling = { ringMode: 'sequential', notifyApps: true, waitRings: 1 };

export function callHandlingOf(stored: unknown): CallHandling {
  const parsed = callHandlingSchema.safeParse({ ...DEFAULT_CALL_HANDLING, ...(stored && typeof stored === 'object' ? stored : {}) });
  return parsed.success ? parsed.data : DEFAULT_CALL_HANDLING;
}

export function userHoursOf(stored: unknown): UserHours {
  const parsed = userHoursSchema.safeParse(stored);
  return parsed.success ? parsed.data : { mode: '24h' };
}
