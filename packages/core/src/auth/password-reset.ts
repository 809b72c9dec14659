import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import { SECURITY_QUESTIONS, normaliseSecurityAnswer, type SecurityQuestion } from '@carillon/domain';
import { identifyUser, type LoginIdentity } from './identify-user.ts';
import { issueUserToken, checkUserToken, consumeUserToken, expireUserTokens } from './user-tokens.ts';
import { accountInfoFor, storePassword, validatePassword } from './credentials.ts';
import { dummyHash, verifySecret } from './hashing.ts';
import { revokeAllSessions } from './sessions.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { claimCredentialAttempt, noSuchCredentials, settleFailedAttempt, type SignInPolicy } from './sign-in.ts';
import type { Mailer } from '../mail/mailer.ts';
import { mailTexts } from '../mail/templates.ts';
import { recordAudit } from '../audit/record-audit.ts';

export const RESET_TTL_MINUTES = 60;

/**
 * "Forgot password" (seed 000 "Accès à votre compte"): a link by e-mail, or the
 * security question. Neither path tells a stranger whether an account exists.
 */
export async function sendPasswordResetLink(
  db: Kysely<Database>,
  mailer: Mailer,
  identity: LoginIdentity,
  publicUrl: string,
): Promise<void> {
  const user = await identifyUser(db, identity);
  if (!user) return;
  const cred = await db.selectFrom('user_credentials').select('password_hash').where('user_id', '=', user.id).executeTakeFirst();
  if (!cred?.password_hash) return; // never activated: the activation link is the way in
  const account = await db.selectFrom('accounts').select('language').where('id', '=', user.account_id).executeTakeFirstOrThrow();
  const token = await issueUserToken(db, { accountId: user.account_id, userId: user.id, purpose: 'password_reset', ttlMs: RESET_TTL_MINUTES * 60_000, supersede: true });
  const t = mailTexts(user.language ?? account.language);
  await mailer.send({
    to: user.email,
    subject: t.resetSubject,
    text: t.resetBody(user.first_name, `${publicUrl}/reset-password/${token}`, RESET_TTL_MINUTES),
  });
}

/** The question to ask. An unknown identity gets a stable made-up question, so the page looks the same. */
export async function securityQuestionFor(db: Kysely<Database>, identity: LoginIdentity): Promise<SecurityQuestion> {
  const user = await identifyUser(db, identity);
  if (user) {
    const cred = await db.selectFrom('user_credentials').select('security_question').where('user_id', '=', user.id).executeTakeFirst();
    if (cred?.security_question) return cred.security_question as SecurityQuestion;
  }
  const h = createHash('sha256').update(JSON.stringify(identity)).digest();
  return SECURITY_QUESTIONS[h[0]! % SECURITY_QUESTIONS.length]!;
}

export type AnswerResult =
  | { ok: true; resetToken: string }
  | { ok: false; reason: 'wrong_answer' | 'rate_limited' }
  | { ok: false; reason: 'locked'; lockedUntil: Date };

/** A right answer yields a reset token; wrong answers count towards the same lockout as passwords. */
export async function answerSecurityQuestion(
  db: Kysely<Database>,
  limiter: RateLimiter,
  policy: SignInPolicy,
  attempt: { identity: LoginIdentity; answer: string; ip: string | null },
): Promise<AnswerResult> {
  if (!(await limiter.hit(`reset:ip:${attempt.ip ?? 'unknown'}`, policy.perIpPerMinute, 60)).allowed) {
    return { ok: false, reason: 'rate_limited' };
  }
  const user = await identifyUser(db, attempt.identity);
  const cred = user
    ? await db.selectFrom('user_credentials').select('security_answer_hash').where('user_id', '=', user.id).executeTakeFirst()
    : undefined;
  if (!user || !cred?.security_answer_hash) {
    // Counted down and locked as a known user's answers are, so that neither answer tells who exists.
    await verifySecret(await dummyHash(), attempt.answer);
    const unknown = await noSuchCredentials(limiter, policy, attempt.identity);
    return unknown.reason === 'locked' ? { ok: false, reason: 'locked', lockedUntil: unknown.lockedUntil } : { ok: false, reason: 'wrong_answer' };
  }
  const claim = await claimCredentialAttempt(db, policy, user.id);
  if (!claim.claimed) return { ok: false, reason: 'locked', lockedUntil: claim.lockedUntil };
  if (!(await verifySecret(cred.security_answer_hash, normaliseSecurityAnswer(attempt.answer)))) {
    const failure = await settleFailedAttempt(db, user.account_id, user.id, claim, attempt.ip);
    if (failure.locked) return { ok: false, reason: 'locked', lockedUntil: failure.lockedUntil };
    return { ok: false, reason: 'wrong_answer' };
  }
  // The right answer: the attempt it took is not a failure.
  await db.updateTable('user_credentials').set({ failed_attempts: 0, locked_until: null }).where('user_id', '=', user.id).execute();
  const resetToken = await issueUserToken(db, { accountId: user.account_id, userId: user.id, purpose: 'password_reset', ttlMs: 15 * 60_000, supersede: true });
  return { ok: true, resetToken };
}

export type ResetResult = { ok: true } | { ok: false; reason: 'invalid' | 'expired' | 'used' } | { ok: false; reason: 'rules'; errors: string[] };

/** Sets the new password, ends every session of the user, and unlocks the account. */
export async function resetPassword(
  db: Kysely<Database>,
  token: string,
  password: string,
  confirm: string,
  ip: string | null,
): Promise<ResetResult> {
  const check = await checkUserToken(db, token, 'password_reset');
  if (check.status !== 'valid') return { ok: false, reason: check.status };
  const errors = validatePassword(password, confirm, await accountInfoFor(db, check.accountId, check.userId));
  if (errors.length) return { ok: false, reason: 'rules', errors };
  return db.transaction().execute(async (trx) => {
    if (!(await consumeUserToken(trx, token))) return { ok: false as const, reason: 'used' as const };
    // Any other reset link of the user, older or newer, dies with this one.
    await expireUserTokens(trx, check.userId, 'password_reset');
    await storePassword(trx, check.userId, password);
    await revokeAllSessions(trx, check.accountId, check.userId);
    await recordAudit(trx, { userId: check.userId, ip }, {
      accountId: check.accountId,
      action: 'user.password_reset',
      targetType: 'user',
      targetId: check.userId,
    });
    return { ok: true as const };
  });
}
