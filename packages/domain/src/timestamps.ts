import type { LanguageCode } from './regional.ts';

/**
 * How a person reads dates and times: their language, time zone and clock (their own choice, else
 * the company's; seed 000 "Paramètres régionaux"). Every timestamp shown to a person goes through
 * `timestamps(regional)`: the app's pages (server render and browser alike, so both print the same
 * text) and the workers' e-mails.
 */
export interface Regional {
  lang: LanguageCode;
  timeZone: string;
  timeFormat: '12h' | '24h';
}

/** Without a known reader (sign-in pages), times are in UTC. */
export const UTC_REGIONAL = (lang: LanguageCode): Regional => ({ lang, timeZone: 'UTC', timeFormat: '24h' });

const LOCALE: Record<LanguageCode, string> = { en: 'en-US', fr: 'fr-FR' };

export interface Timestamps {
  /** Date and time to the second, with the zone's short name. */
  dateTime(at: string | Date): string;
  /** Date and time to the minute. */
  dateTimeShort(at: string | Date): string;
  /** Hour and minute only. */
  time(at: string | Date): string;
}

export function timestamps(r: Regional): Timestamps {
  const base = { timeZone: r.timeZone, hour12: r.timeFormat === '12h' } as const;
  const full = new Intl.DateTimeFormat(LOCALE[r.lang], { ...base, dateStyle: 'medium', timeStyle: 'long' });
  const short = new Intl.DateTimeFormat(LOCALE[r.lang], { ...base, dateStyle: 'medium', timeStyle: 'short' });
  const hm = new Intl.DateTimeFormat(LOCALE[r.lang], { ...base, hour: '2-digit', minute: '2-digit' });
  const at = (v: string | Date) => (v instanceof Date ? v : new Date(v));
  return { dateTime: (v) => full.format(at(v)), dateTimeShort: (v) => short.format(at(v)), time: (v) => hm.format(at(v)) };
}
