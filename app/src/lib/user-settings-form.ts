import type { MessageKey } from '#lib/i18n/index.ts';

/** Labels shared by the templates page and the user details page. */
export const WEEK_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type WeekDay = (typeof WEEK_DAYS)[number];
export const CALLER_ID_FEATURES = ['ringout_web', 'ringme', 'call_flip', 'fax_number', 'mobile_app', 'desktop_app', 'common_phone', 'delegated', 'alternate'] as const;
export const NOTIFICATION_KINDS = ['voicemail', 'fax', 'missedCalls', 'faxResults', 'textMessages'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const dayLabel = (d: WeekDay): MessageKey => `settings.day.${d}`;
export const featureLabel = (f: (typeof CALLER_ID_FEATURES)[number]): MessageKey => `settings.callerId.feature.${f}`;
export const notificationLabel = (k: NotificationKind): MessageKey => `settings.notify.${k}`;

export interface Notifications {
  voicemail: { email: boolean; attachment: boolean; markRead: boolean };
  fax: { email: boolean; attachment: boolean; markRead: boolean };
  missedCalls: { email: boolean };
  faxResults: { email: boolean };
  textMessages: { email: boolean };
}
export const DEFAULT_NOTIFICATIONS: Notifications = {
  voicemail: { email: true, attachment: false, markRead: false },
  fax: { email: true, attachment: true, markRead: false },
  missedCalls: { email: false },
  faxResults: { email: true },
  textMessages: { email: false },
};

/** The hours editor works on one range a day (the common case); the API takes up to four. */
export type DayHours = { on: boolean; from: string; to: string };
export type HoursDraft = { mode: '24h' | 'custom'; days: Record<WeekDay, DayHours> };
export type UserHours = { mode: '24h' } | { mode: 'custom'; days: Partial<Record<WeekDay, { from: string; to: string }[]>> };

export function hoursDraft(h: UserHours | undefined): HoursDraft {
  const days = Object.fromEntries(
    WEEK_DAYS.map((d) => {
      const first = h?.mode === 'custom' ? h.days[d]?.[0] : undefined;
      return [d, first ? { on: true, from: first.from, to: first.to } : { on: false, from: '09:00', to: '17:00' }];
    }),
  ) as Record<WeekDay, DayHours>;
  // Switching from 24 hours to custom starts from office hours on weekdays.
  if (!h || h.mode === '24h') for (const d of WEEK_DAYS) days[d].on = !['sat', 'sun'].includes(d);
  return { mode: h?.mode ?? '24h', days };
}

export function hoursOf(draft: HoursDraft): UserHours {
  if (draft.mode === '24h') return { mode: '24h' };
  return { mode: 'custom', days: Object.fromEntries(WEEK_DAYS.map((d) => [d, draft.days[d].on ? [{ from: draft.days[d].from, to: draft.days[d].to }] : []])) };
}
