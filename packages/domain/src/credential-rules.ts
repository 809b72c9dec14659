/**
 * Password, PIN and security-answer rules of the activation wizard (seed 001
 * "Créer votre mot de passe", "Définir votre code PIN", "Configurer votre
 * question"). Shared by the browser (live checklist) and the server (the
 * authority). Each rule is reported separately so the UI can tick it.
 *
 * Decision on the terse "no consecutive and no repeated characters": a run of
 * three or more identical characters (aaa, 111) or three or more consecutive
 * ascending or descending characters (abc, 321) is refused, for passwords and PINs.
 */
export type PasswordRule = 'length' | 'letter' | 'digit' | 'upperOrSpecial' | 'noRuns' | 'noAccountInfo';
export type PinRule = 'digitsOnly' | 'length' | 'noRuns';
export type RuleResult<R extends string> = { rule: R; ok: boolean }[];

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 32;
export const PIN_MIN = 6;
export const PIN_MAX = 10;
export const SECURITY_ANSWER_MIN_LETTERS = 4;

/** True when `s` holds `len` identical or consecutive (ascending or descending) characters in a row. */
export function hasRun(s: string, len = 3): boolean {
  const lower = s.toLowerCase();
  let same = 1;
  let up = 1;
  let down = 1;
  for (let i = 1; i < lower.length; i++) {
    const d = lower.charCodeAt(i) - lower.charCodeAt(i - 1);
    const alnum = /[a-z0-9]/.test(lower[i]!) && /[a-z0-9]/.test(lower[i - 1]!);
    same = d === 0 ? same + 1 : 1;
    up = d === 1 && alnum ? up + 1 : 1;
    down = d === -1 && alnum ? down + 1 : 1;
    if (same >= len || up >= len || down >= len) return true;
  }
  return false;
}

export interface AccountInfo {
  firstName?: string | null | undefined;
  lastName?: string | null | undefined;
  email?: string | null | undefined;
  extension?: string | null | undefined;
  phoneNumbers?: (string | null | undefined)[];
  companyName?: string | null | undefined;
}

/** Pieces of account information at least 3 characters long that a password must not contain. */
function accountTokens(info: AccountInfo): string[] {
  const tokens: string[] = [];
  const push = (v: string | null | undefined) => {
    const t = (v ?? '').toLowerCase().trim();
    if (t.length >= 3) tokens.push(t);
  };
  push(info.firstName);
  push(info.lastName);
  push(info.email?.split('@')[0]);
  push(info.extension);
  for (const word of (info.companyName ?? '').split(/\s+/)) push(word);
  for (const n of info.phoneNumbers ?? []) {
    const digits = (n ?? '').replace(/\D/g, '');
    // The last 7 digits are what people actually reuse from a number.
    push(digits.length > 7 ? digits.slice(-7) : digits);
  }
  return tokens;
}

export function checkPassword(password: string, info: AccountInfo = {}): RuleResult<PasswordRule> {
  const lower = password.toLowerCase();
  return [
    { rule: 'length', ok: password.length >= PASSWORD_MIN && password.length <= PASSWORD_MAX },
    { rule: 'letter', ok: /[A-Za-z]/.test(password) },
    { rule: 'digit', ok: /[0-9]/.test(password) },
    { rule: 'upperOrSpecial', ok: /[A-Z]/.test(password) || /[!@$#]/.test(password) },
    { rule: 'noRuns', ok: password.length > 0 && !hasRun(password) },
    { rule: 'noAccountInfo', ok: password.length > 0 && !accountTokens(info).some((t) => lower.includes(t)) },
  ];
}

export function checkPin(pin: string): RuleResult<PinRule> {
  return [
    { rule: 'digitsOnly', ok: /^[0-9]+$/.test(pin) },
    { rule: 'length', ok: pin.length >= PIN_MIN && pin.length <= PIN_MAX },
    { rule: 'noRuns', ok: pin.length > 0 && !hasRun(pin) },
  ];
}

export function checkSecurityAnswer(answer: string): RuleResult<'minLetters'> {
  const letters = (answer.match(/\p{L}/gu) ?? []).length;
  return [{ rule: 'minLetters', ok: letters >= SECURITY_ANSWER_MIN_LETTERS }];
}

export const allPass = <R extends string>(results: RuleResult<R>) => results.every((r) => r.ok);
export const failedRules = <R extends string>(results: RuleResult<R>): R[] =>
  results.filter((r) => !r.ok).map((r) => r.rule);

/** Security questions offered in the dropdown; the text lives in the UI dictionaries. */
export const SECURITY_QUESTIONS = [
  'first_pet',
  'birth_city',
  'first_school',
  'mother_maiden_name',
  'first_car',
  'favourite_teacher',
] as const;
export type SecurityQuestion = (typeof SECURITY_QUESTIONS)[number];

/** Normalises a security answer before hashing so "Rex " and "rex" match. */
export const normaliseSecurityAnswer = (a: string) => a.trim().toLowerCase().replace(/\s+/g, ' ');
