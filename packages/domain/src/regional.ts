/**
 * Regional choices offered in the wizard and settings. Countries carry their
 * calling code for the "United States (1)" style of the seed.
 */
export const COUNTRIES = [
  { code: 'US', callingCode: '1' },
  { code: 'CA', callingCode: '1' },
  { code: 'GB', callingCode: '44' },
  { code: 'FR', callingCode: '33' },
  { code: 'BE', callingCode: '32' },
  { code: 'CH', callingCode: '41' },
  { code: 'DE', callingCode: '49' },
  { code: 'ES', callingCode: '34' },
  { code: 'IT', callingCode: '39' },
  { code: 'IE', callingCode: '353' },
  { code: 'AU', callingCode: '61' },
] as const;
export type CountryCode = (typeof COUNTRIES)[number]['code'];
export const COUNTRY_CODES = COUNTRIES.map((c) => c.code) as [CountryCode, ...CountryCode[]];

export const LANGUAGES = ['en', 'fr'] as const;
export type LanguageCode = (typeof LANGUAGES)[number];

export const TIME_FORMATS = ['12h', '24h'] as const;

/** Every IANA zone the runtime knows; validation uses the same list the dropdown shows. */
export function timeZones(): string[] {
  return Intl.supportedValuesOf('timeZone');
}
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Digits of a number dialled in the account's country, as E.164 ("+14155550100"), or null. */
export function toE164(input: string, country: CountryCode): string | null {
  const trimmed = input.trim();
  const digits = trimmed.replace(/[^0-9]/g, '');
  if (!digits) return null;
  const cc = COUNTRIES.find((c) => c.code === country)?.callingCode ?? '1';
  let e164: string;
  if (trimmed.startsWith('+')) e164 = '+' + digits;
  else if (digits.startsWith('00')) e164 = '+' + digits.slice(2);
  else if (cc === '1' && digits.length === 11 && digits.startsWith('1')) e164 = '+' + digits;
  else if (cc === '1') e164 = '+1' + digits;
  else e164 = '+' + cc + digits.replace(/^0/, '');
  return /^\+[1-9][0-9]{6,14}$/.test(e164) ? e164 : null;
}

/** The calling code of an E.164 number among our countries ("+33…" → "33"), or null. */
export function callingCodeOf(e164: string): string | null {
  const codes = [...new Set(COUNTRIES.map((c) => c.callingCode))].sort((a, b) => b.length - a.length);
  return codes.find((cc) => e164.startsWith('+' + cc)) ?? null;
}

/** A number as a carrier in `country` expects it dialled nationally ("+33142685300" → "0142685300"). */
export function toNational(e164: string, country: CountryCode): string {
  const cc = COUNTRIES.find((c) => c.code === country)?.callingCode ?? '1';
  if (!e164.startsWith('+' + cc)) return '00' + e164.slice(1);
  const rest = e164.slice(1 + cc.length);
  return cc === '1' ? rest : '0' + rest;
}
