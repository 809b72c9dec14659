/**
 * The content check of business texts (issue 18, deliverable 2): carriers
 * filter A2P traffic that hides its links behind a URL shortener (the
 * destination cannot be vetted, so the whole campaign may be blocked) or
 * reads like spam. The check warns; an account that requires clean content
 * has the texts refused instead. Pure, so the campaign form and the composer
 * show the same warnings the server gives.
 */

/** Public URL shorteners: a link through one of them hides where it goes. */
export const SMS_URL_SHORTENERS: readonly string[] = [
  'bit.ly',
  'bitly.com',
  'tinyurl.com',
  't.co',
  'goo.gl',
  'ow.ly',
  'is.gd',
  'v.gd',
  'buff.ly',
  'rebrand.ly',
  'cutt.ly',
  'shorturl.at',
  'tiny.cc',
  'rb.gy',
  'bl.ink',
  't.ly',
  'lnkd.in',
  'soo.gd',
  's.id',
  'shorte.st',
  'adf.ly',
  'bc.vc',
  'qr.net',
  'x.co',
  'po.st',
  'mcaf.ee',
  'su.pr',
  'tr.im',
  'db.tt',
  'j.mp',
];

/** Phrases carriers' filters and recipients read as spam (matched on words, any case). */
const SPAM_PHRASES: readonly RegExp[] = [
  /\b(?:you(?:'ve| have)? won|claim your (?:prize|reward|gift)|winner)\b/i,
  /(?:\bfree (?:money|cash|gift card|iphone)\b|\bcash prize\b|\b100% free\b)/i,
  /\b(?:act now|urgent(?:ly)? (?:respond|reply)|limited time only|expires today)\b/i,
  /\b(?:guaranteed|risk[- ]free|no credit check)\b/i,
  /\b(?:payday loan|debt relief|pre-?approved)\b/i,
];

export type SmsContentWarning =
  | { code: 'shortened_url'; domain: string }
  | { code: 'spam_phrase'; phrase: string }
  | { code: 'shouting' }
  | { code: 'repeated_punctuation' }
  | { code: 'money_symbols' };

/** Host names written in a text, with or without a scheme: `bit.ly/x`, `https://t.co/y`, `www.tinyurl.com/z`. */
const HOST = /(?:^|[^a-z0-9@.-])(?:https?:\/\/)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})(?=[/?#:]|[\s.,;!)]*(?:\s|$))/gi;

/** A text's shortened links and spam signs, each once, in a stable order. */
export function checkSmsContent(text: string): SmsContentWarning[] {
  const warnings: SmsContentWarning[] = [];
  const domains = new Set<string>();
  for (const m of text.matchAll(HOST)) {
    const host = m[1]!.toLowerCase().replace(/^www\./, '');
    if (SMS_URL_SHORTENERS.includes(host) && !domains.has(host)) {
      domains.add(host);
      warnings.push({ code: 'shortened_url', domain: host });
    }
  }
  for (const pattern of SPAM_PHRASES) {
    const m = pattern.exec(text);
    if (m) warnings.push({ code: 'spam_phrase', phrase: m[0]!.toLowerCase() });
  }
  // Mostly capitals over a real length of letters: a short "OK" or an acronym is not shouting.
  const letters = text.replace(/[^\p{L}]/gu, '');
  const upper = text.replace(/[^\p{Lu}]/gu, '');
  if (letters.length >= 20 && upper.length / letters.length > 0.7) warnings.push({ code: 'shouting' });
  if (/[!?]{3,}/.test(text)) warnings.push({ code: 'repeated_punctuation' });
  if (/[$€£]{2,}/.test(text)) warnings.push({ code: 'money_symbols' });
  return warnings;
}

/** The warnings of several texts (a campaign's template and each line's text), each once. */
export function mergeSmsContentWarnings(lists: Iterable<SmsContentWarning[]>): SmsContentWarning[] {
  const seen = new Map<string, SmsContentWarning>();
  for (const list of lists) for (const w of list) seen.set(JSON.stringify(w), w);
  return [...seen.values()];
}

/** The sentence of a warning, as the campaign form, the composer and the API say it. */
export function smsContentWarningMessage(w: SmsContentWarning): string {
  switch (w.code) {
    case 'shortened_url':
      return `${w.domain} is a URL shortener: carriers block links whose destination they cannot see; use your own domain`;
    case 'spam_phrase':
      return `“${w.phrase}” reads like spam to carriers’ filters`;
    case 'shouting':
      return 'most of the text is in capitals, which carriers’ filters read as spam';
    case 'repeated_punctuation':
      return 'repeated exclamation or question marks read as spam';
    case 'money_symbols':
      return 'repeated currency symbols read as spam';
  }
}
