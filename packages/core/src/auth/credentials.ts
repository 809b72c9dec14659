import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '@carillon/db';
import {
  SECURITY_QUESTIONS,
  checkPassword,
  checkPin,
  checkSecurityAnswer,
  failedRules,
  normaliseSecurityAnswer,
  type AccountInfo,
  type PasswordRule,
  type PinRule,
} from '@carillon/domain';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { hashSecret } from './hashing.ts';

export const credentialsInput = z.object({
  password: z.string().max(200),
  passwordConfirm: z.string().max(200),
  pin: z.string().max(50),
  pinConfirm: z.string().max(50),
  securityQuestion: z.enum(SECURITY_QUESTIONS),
  securityAnswer: z.string().max(200),
});
export type CredentialsInput = z.infer<typeof credentialsInput>;

export interface CredentialErrors {
  password?: (PasswordRule | 'mismatch')[];
  pin?: (PinRule | 'mismatch')[];
  securityAnswer?: 'minLetters'[];
}

/** What a password must not contain, for one user (name, e-mail, extension, numbers, company). */
export async function accountInfoFor(db: Kysely<Database>, accountId: string, userId: string): Promise<AccountInfo> {
  const user = await db
    .selectFrom('users')
    .innerJoin('extensions', 'extensions.id', 'users.extension_id')
    .select(['users.first_name', 'users.last_name', 'users.email', 'users.contact_phone', 'extensions.number'])
    .where('users.id', '=', userId)
    .where('users.account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  const account = await db.selectFrom('accounts').select(['company_name', 'main_number']).where('id', '=', accountId).executeTakeFirstOrThrow();
  const numbers = await db
    .selectFrom('phone_numbers')
    .innerJoin('users', 'users.extension_id', 'phone_numbers.extension_id')
    .select('phone_numbers.e164')
    .where('users.id', '=', userId)
    .execute();
  return {
    firstName: user.first_name,
    lastName: user.last_name,
    email: user.email,
    extension: user.number,
    companyName: account.company_name,
    phoneNumbers: [account.main_number, user.contact_phone, ...numbers.map((n) => n.e164)],
  };
}

export function validatePassword(password: string, confirm: string, info: AccountInfo): (PasswordRule | 'mismatch')[] {
  const errors: (PasswordRule | 'mismatch')[] = failedRules(checkPassword(password, info));
  if (password !== confirm) errors.push('mismatch');
  return errors;
}

export function validateCredentials(input: CredentialsInput, info: AccountInfo): CredentialErrors | null {
  const errors: CredentialErrors = {};
  const pw = validatePassword(input.password, input.passwordConfirm, info);
  if (pw.length) errors.password = pw;
  const pin: (PinRule | 'mismatch')[] = failedRules(checkPin(input.pin));
  if (input.pin !== input.pinConfirm) pin.push('mismatch');
  if (pin.length) errors.pin = pin;
  const answer = failedRules(checkSecurityAnswer(input.securityAnswer));
  if (answer.length) errors.securityAnswer = answer;
  return Object.keys(errors).length ? errors : null;
}

export async function storeCredentials(db: Kysely<Database>, userId: string, input: CredentialsInput): Promise<void> {
  const [passwordHash, pinHash, answerHash] = await Promise.all([
    hashSecret(input.password),
    hashSecret(input.pin),
    hashSecret(normaliseSecurityAnswer(input.securityAnswer)),
  ]);
  await db
    .insertInto('user_credentials')
    .values({
      user_id: userId,
      password_hash: passwordHash,
      pin_hash: pinHash,
      security_question: input.securityQuestion,
      security_answer_hash: answerHash,
      password_changed_at: new Date(),
    })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({
        password_hash: passwordHash,
        pin_hash: pinHash,
        security_question: input.securityQuestion,
        security_answer_hash: answerHash,
        password_changed_at: new Date(),
        failed_attempts: 0,
        locked_until: null,
      }),
    )
    .execute();
}

export async function storePassword(db: Kysely<Database>, userId: string, password: string): Promise<void> {
  await db
    .updateTable('user_credentials')
    .set({ password_hash: await hashSecret(password), password_changed_at: new Date(), failed_attempts: 0, locked_until: null })
    .where('user_id', '=', userId)
    .execute();
}

export type VoicemailPinResult = { ok: true } | { ok: false; rules: (PinRule | 'mismatch')[] };

/**
 * A user's voicemail PIN (the mailbox's, issue 13), set by the user on the web (My Extension ›
 * Settings) or by phone (the mailbox's menu): the shared PIN rules (credential-rules.ts) and the two
 * entries the same, then stored hashed (argon2id) and audited, `via` saying where. Null when the user
 * is not the account's. The PIN itself is never logged nor audited.
 */
export async function setVoicemailPin(
  db: Kysely<Database>,
  actor: AuditActor,
  accountId: string,
  userId: string,
  input: { pin: string; pinConfirm: string; via: 'web' | 'phone' },
): Promise<VoicemailPinResult | null> {
  const rules: (PinRule | 'mismatch')[] = failedRules(checkPin(input.pin));
  if (input.pin !== input.pinConfirm) rules.push('mismatch');
  if (rules.length) return { ok: false, rules };
  const pinHash = await hashSecret(input.pin);
  return db.transaction().execute(async (trx) => {
    const user = await trx.selectFrom('users').select('id').where('account_id', '=', accountId).where('id', '=', userId).executeTakeFirst();
    if (!user) return null;
    // A user without credentials yet (not activated) gets the row with the PIN alone.
    await trx
      .insertInto('user_credentials')
      .values({ user_id: user.id, pin_hash: pinHash })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ pin_hash: pinHash }))
      .execute();
    await recordAudit(trx, actor, { accountId, action: 'user.voicemail_pin_changed', targetType: 'user', targetId: userId, after: { via: input.via } });
    return { ok: true } as const;
  });
}
