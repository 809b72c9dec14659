import { z } from 'zod';
import { isTimeZone, LANGUAGES, TIME_FORMATS, weeklyScheduleSchema, type WeeklySchedule } from '@carillon/domain';

/**
 * The shapes of a user's settings (seed 000 "Détails de l'utilisateur",
 * "Heures de l'utilisateur", "ID de l'appelant sortant", "Notifications",
 * "Gestion et renvoi des appels"), shared by the API that edits them, the
 * templates that carry them and the worker that applies templates.
 */

/** User hours are a weekly schedule, the one the answering rules read (domain/answering-rules). */
export { WEEK_DAYS, type WeekDay } from '@carillon/domain';
export const userHoursSchema = weeklyScheduleSchema;
export type UserHours = WeeklySchedule;

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
