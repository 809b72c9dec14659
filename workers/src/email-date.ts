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
