import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import { dummyHash, verifySecret } from './hashing.ts';
import { identifyUser, type LoginIdentity } from './identify-user.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { createSession } from './sessions.ts';
import { recordAudit } from '../audit/record-audit.ts';

export interface SignInPolicy {
  maxFailures: number;
  lockoutMinutes: number;
  perIpPerMinute: number;
  /** Attempts on one account from everywhere per minute, against distributed guessing. */
  perAccountPerMinute: number;
}

export type SignInResult =
  | { ok: true; sessionToken: string; userId: string; accountId: string; setupComplete: boolean }
  | { ok: false; reason: 'invalid_credentials'; attemptsLeft: number | null }
  | { ok: false; reason: 'locked'; lockedUntil: Date }
  | { ok: false; reason: 'rate_limited' }
  | { ok: false; reason: 'not_activated' | 'disabled' };

/**
 * Checks a password for an identity. Failures count towards a lockout of the
 * user's credentials; attempts are also limited per IP and per account in
 * Redis. An unknown identity costs the same argon2 work as a known one.
 */
export async function signIn(
  db: Kysely<Database>,
  limiter: RateLimiter,
  policy: SignInPolicy,
  attempt: { identity: LoginIdentity; password: string; ip: string | null; userAgent: string | null },
): Promise<SignInResult> {
  if (!(await limiter.hit(`login:ip:${attempt.ip ?? 'unknown'}`, policy.perIpPerMinute, 60)).allowed) {
    return { ok: false, reason: 'rate_limited' };
  }
  const user = await identifyUser(db, attempt.identity);
  if (!user) {
    await verifySecret(await dummyHash(), attempt.password);
    return { ok: false, reason: 'invalid_credentials', attemptsLeft: null };
  }
  if (!(await limiter.hit(`login:account:${user.account_id}`, policy.perAccountPerMinute, 60)).allowed) {
    return { ok: false, reason: 'rate_limited' };
  }
  const cred = await db.selectFrom('user_credentials').selectAll().where('user_id', '=', user.id).executeTakeFirst();
  if (cred?.locked_until && new Date(cred.locked_until).getTime() > Date.now()) {
    return { ok: false, reason: 'locked', lockedUntil: new Date(cred.locked_until) };
  }
  if (!cred?.password_hash) {
    await verifySecret(await dummyHash(), attempt.password);
    return { ok: false, reason: 'not_activated' };
  }
  if (!(await verifySecret(cred.password_hash, attempt.password))) {
    const failure = await registerCredentialFailure(db, policy, user.account_id, user.id, cred.failed_attempts, attempt.ip);
    return failure.locked
      ? { ok: false, reason: 'locked', lockedUntil: failure.lockedUntil }
      : { ok: false, reason: 'invalid_credentials', attemptsLeft: failure.attemptsLeft };
  }
  const ext = await db.selectFrom('extensions').select('status').where('id', '=', user.extension_id).executeTakeFirst();
  if (ext?.status === 'disabled') return { ok: false, reason: 'disabled' };
  await db.updateTable('user_credentials').set({ failed_attempts: 0, locked_until: null }).where('user_id', '=', user.id).execute();
  const sessionToken = await createSession(db, {
    accountId: user.account_id,
    userId: user.id,
    ip: attempt.ip,
    userAgent: attempt.userAgent,
  });
  const account = await db.selectFrom('accounts').select('setup_completed_at').where('id', '=', user.account_id).executeTakeFirst();
  const progress = (user.setup_progress ?? {}) as { completed?: string[] };
  return {
    ok: true,
    sessionToken,
    userId: user.id,
    accountId: user.account_id,
    setupComplete: Boolean(account?.setup_completed_at) || Boolean(progress.completed?.includes('review')),
  };
}

/**
 * Counts a wrong secret (password or security answer) towards the lockout of
 * the user's credentials, and locks them, with an audit entry, at the limit.
 */
export async function registerCredentialFailure(
  db: Kysely<Database>,
  policy: Pick<SignInPolicy, 'maxFailures' | 'lockoutMinutes'>,
  accountId: string,
  userId: string,
  previousFailures: number,
  ip: string | null,
): Promise<{ locked: true; lockedUntil: Date } | { locked: false; attemptsLeft: number }> {
  const failures = previousFailures + 1;
  if (failures >= policy.maxFailures) {
    const lockedUntil = new Date(Date.now() + policy.lockoutMinutes * 60_000);
    await db
      .updateTable('user_credentials')
      .set({ failed_attempts: 0, locked_until: lockedUntil })
      .where('user_id', '=', userId)
      .execute();
    await recordAudit(db, { userId: null, ip }, {
      accountId,
      action: 'user.locked_out',
      targetType: 'user',
      targetId: userId,
      after: { lockedUntil: lockedUntil.toISOString(), failures },
    });
    return { locked: true, lockedUntil };
  }
  await db.updateTable('user_credentials').set({ failed_attempts: failures }).where('user_id', '=', userId).execute();
  return { locked: false, attemptsLeft: policy.maxFailures - failures };
}
