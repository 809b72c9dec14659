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
