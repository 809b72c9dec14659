import type { Db } from '@carillon/db';

/**
 * What the notification e-mails (voicemail, texts, missed calls) share about their readers: their rows, and the
 * date in their language, time zone and clock.
 */

/**
 * The date of a notification e-mail, in the reader's language, time zone and
 * clock (12 or 24 hours; undefined: the language's own). A time zone the
 * runtime does not know gives UTC, said so.
 */
export function emailDate(at: Date, reader: { language: 'en' | 'fr'; timeZone: string; hour12: boolean | undefined }): string {
  const locale = reader.language === 'fr' ? 'fr-FR' : 'en-US';
  try {
    return new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short', timeZone: reader.timeZone, ...(reader.hour12 === undefined ? {} : { hour12: reader.hour12 }) }).format(at);
  } catch {
    return `${new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short', timeZone: 'UTC' }).format(at)} UTC`;
  }
}

/** A reader's language, time zone (else the account's) and clock, as `emailDate` takes them, from their `users` row. */
export function readerClock(reader: { language: string | null; time_zone: string | null; time_format: string | null }, accountTimeZone: string): { language: 'en' | 'fr'; timeZone: string; hour12: boolean | undefined } {
  return {
    language: reader.language === 'fr' ? 'fr' : 'en',
    timeZone: reader.time_zone ?? accountTimeZone,
    hour12: reader.time_format === '12h' ? true : reader.time_format === '24h' ? false : undefined,
  };
}

/**
 * The `users` rows a notification e-mail needs (address, settings, clock) of
 * these users of the account, by id; none for an empty list.
 */
export async function notificationReaders(db: Db, accountId: string, userIds: readonly string[]) {
  if (userIds.length === 0) return [];
  return db
    .selectFrom('users')
    .select(['id', 'email', 'notification_email', 'notification_settings', 'language', 'time_zone', 'time_format'])
    .where('account_id', '=', accountId)
    .where('id', 'in', userIds)
    .orderBy('id')
    .execute();
}
