/**
 * The "To" field of a new text (inventory 3 §13.3–13.4): numbers or names of
 * the user's contacts, separated by commas or semicolons. "Create group text" checked: one shared conversation,
 * at most 10 recipients, US, Canadian and Puerto Rican numbers only.
 * Unchecked: the same text sent individually, at most 100 recipients.
 */
export const SMS_GROUP_MAX_RECIPIENTS = 10;
export const SMS_BULK_MAX_RECIPIENTS = 100;

/**
 * Area codes of the +1 zone that are neither the US (states), Canada nor
 * Puerto Rico: the other NANP countries, and the US territories the rule does
 * not name (USVI 340, Northern Marianas 670, Guam 671, American Samoa 684).
 */
const NANP_OUTSIDE_US_CA_PR = new Set([
  '242', '246', '264', '268', '284', '340', '345', '441', '473', '649', '658', '664', '670', '671', '684',
  '721', '758', '767', '784', '809', '829', '849', '868', '869', '876',
]);

export type SmsRecipientError =
  | { code: 'empty' }
  | { code: 'invalid_number'; entry: string }
  | { code: 'unknown_contact'; entry: string }
  | { code: 'ambiguous_contact'; entry: string; count: number }
  | { code: 'too_many'; max: number; count: number }
  | { code: 'group_outside_us_ca_pr'; entry: string };

export type SmsRecipients = { ok: true; numbers: string[] } | { ok: false; errors: SmsRecipientError[] };

/** A number as typed → E.164; 10 digits (or 1 + 10) are North American. Null when it is not a number. */
export function smsNumberOf(entry: string): string | null {
  const cleaned = entry.replace(/[\s().-]/g, '');
  if (/^\+[1-9][0-9]{6,14}$/.test(cleaned)) return cleaned;
  if (/^[2-9][0-9]{9}$/.test(cleaned)) return `+1${cleaned}`;
  if (/^1[2-9][0-9]{9}$/.test(cleaned)) return `+${cleaned}`;
  return null;
}

/** True for +1 numbers of the US, Canada or Puerto Rico (area and exchange codes start 2–9). */
export function isUsCaPrNumber(e164: string): boolean {
  const m = /^\+1([2-9][0-9]{2})[2-9][0-9]{6}$/.exec(e164);
  return Boolean(m) && !NANP_OUTSIDE_US_CA_PR.has(m![1]!);
}

/** The entries of a "To" field, as typed (trimmed, empty ones dropped). */
export function smsRecipientEntries(input: string): string[] {
  return input
    .split(/[,;]/)
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
}

/** The key a contact's name is matched by: case and runs of spaces do not matter. */
export const smsContactKey = (name: string): string => name.trim().replace(/\s+/g, ' ').toLowerCase();

/** An entry with a letter in it names a contact; anything else is meant as a number. */
export const namesSmsContact = (entry: string): boolean => /\p{L}/u.test(entry);

/**
 * `contacts`: the user's contacts whose name (smsContactKey) the entries use,
 * each name with the numbers of the contacts that bear it. A name borne by
 * contacts with different numbers is refused as ambiguous rather than guessed.
 */
export function parseSmsRecipients(input: string, group: boolean, contacts: ReadonlyMap<string, readonly string[]> = new Map()): SmsRecipients {
  const entries = smsRecipientEntries(input);
  if (entries.length === 0) return { ok: false, errors: [{ code: 'empty' }] };
  const errors: SmsRecipientError[] = [];
  const numbers: string[] = [];
  for (const entry of entries) {
    let number = smsNumberOf(entry);
    if (!number && namesSmsContact(entry)) {
      const phones = [...new Set((contacts.get(smsContactKey(entry)) ?? []).map((p) => smsNumberOf(p) ?? p))];
      if (phones.length === 0) {
        errors.push({ code: 'unknown_contact', entry });
        continue;
      }
      if (phones.length > 1) {
        errors.push({ code: 'ambiguous_contact', entry, count: phones.length });
        continue;
      }
      number = smsNumberOf(phones[0]!);
      if (!number) {
        errors.push({ code: 'invalid_number', entry: `${entry} (${phones[0]})` });
        continue;
      }
    }
    if (!number) errors.push({ code: 'invalid_number', entry });
    else if (group && !isUsCaPrNumber(number)) errors.push({ code: 'group_outside_us_ca_pr', entry });
    else if (!numbers.includes(number)) numbers.push(number);
  }
  const max = group ? SMS_GROUP_MAX_RECIPIENTS : SMS_BULK_MAX_RECIPIENTS;
  const count = numbers.length + errors.filter((e) => e.code !== 'empty').length;
  if (count > max) errors.unshift({ code: 'too_many', max, count });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, numbers };
}
