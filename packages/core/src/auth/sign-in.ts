import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
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
  | { ok: false; reason: 'disabled' };

/**
 * Checks a password for an identity. Failures count towards a lockout of the
 * user's credentials; attempts are also limited per IP and per account in
 * Redis. The answers never tell whether an identity exists: an unknown one
 * (or a user not yet activated) costs the same argon2 work, counts its wrong
 * attempts down and locks the same way as a known one.
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
    return noSuchCredentials(limiter, policy, attempt.identity);
  }
  if (!(await limiter.hit(`login:account:${user.account_id}`, policy.perAccountPerMinute, 60)).allowed) {
    return { ok: false, reason: 'rate_limited' };
  }
  const cred = await db.selectFrom('user_credentials').select('password_hash').where('user_id', '=', user.id).executeTakeFirst();
  if (!cred?.password_hash) {
    // Not activated yet: no password can be right, and saying so would tell that the account exists.
    await verifySecret(await dummyHash(), attempt.password);
    return noSuchCredentials(limiter, policy, attempt.identity);
  }
  const claim = await claimCredentialAttempt(db, policy, user.id);
  if (!claim.claimed) return { ok: false, reason: 'locked', lockedUntil: claim.lockedUntil };
  if (!(await verifySecret(cred.password_hash, attempt.password))) {
    const failure = await settleFailedAttempt(db, user.account_id, user.id, claim, attempt.ip);
    return failure.locked
      ? { ok: false, reason: 'locked', lockedUntil: failure.lockedUntil }
      : { ok: false, reason: 'invalid_credentials', attemptsLeft: failure.attemptsLeft };
  }
  await db.updateTable('user_credentials').set({ failed_attempts: 0, locked_until: null }).where('user_id', '=', user.id).execute();
  const ext = await db.selectFrom('extensions').select('status').where('id', '=', user.extension_id).executeTakeFirst();
  if (ext?.status === 'disabled') return { ok: false, reason: 'disabled' };
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
 * The answer to a wrong secret for an identity with no usable credentials
 * (unknown, or not activated): counted down and locked in Redis as a known
 * user's would be in the database, so that the answers look the same.
 */
export async function noSuchCredentials(
  limiter: RateLimiter,
  policy: Pick<SignInPolicy, 'maxFailures' | 'lockoutMinutes'>,
  identity: LoginIdentity,
): Promise<{ ok: false; reason: 'invalid_credentials'; attemptsLeft: number } | { ok: false; reason: 'locked'; lockedUntil: Date }> {
  const key = createHash('sha256')
    .update(JSON.stringify(identity.kind === 'email' ? { ...identity, email: identity.email.toLowerCase() } : identity))
    .digest('base64url');
  const hit = await limiter.hit(`login:unknown:${key}`, policy.maxFailures, policy.lockoutMinutes * 60);
  if (hit.count >= policy.maxFailures) return { ok: false, reason: 'locked', lockedUntil: hit.resetsAt };
  return { ok: false, reason: 'invalid_credentials', attemptsLeft: policy.maxFailures - hit.count };
}

export type AttemptClaim = { claimed: true; attempt: number; lockedUntil: Date | null; maxFailures: number } | { claimed: false; lockedUntil: Date };

/**
 * Takes one attempt at the user's credentials before the secret is checked,
 * in one UPDATE … RETURNING: parallel attempts each get their own number,
 * the one that reaches the limit locks the credentials in the same statement,
 * and every attempt after it is refused as locked without being evaluated.
 * (Reading the counter and then writing it let 50 parallel guesses through.)
 * A lock that has expired starts the count again.
 */
export async function claimCredentialAttempt(
  db: Kysely<Database>,
  policy: Pick<SignInPolicy, 'maxFailures' | 'lockoutMinutes'>,
  userId: string,
): Promise<AttemptClaim> {
  const previous = sql<number>`(case when locked_until is null then failed_attempts else 0 end)`;
  const claimed = await db
    .updateTable('user_credentials')
    .set({
      failed_attempts: sql<number>`${previous} + 1`,
      locked_until: sql<Date | null>`case when ${previous} + 1 >= ${policy.maxFailures} then now() + make_interval(mins => ${policy.lockoutMinutes}) else null end`,
    })
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', sql<Date>`now()`)]))
    .returning(['failed_attempts', 'locked_until'])
    .executeTakeFirst();
  if (claimed) {
    return { claimed: true, attempt: claimed.failed_attempts, lockedUntil: claimed.locked_until ? new Date(claimed.locked_until) : null, maxFailures: policy.maxFailures };
  }
  const row = await db.selectFrom('user_credentials').select('locked_until').where('user_id', '=', userId).executeTakeFirst();
  return { claimed: false, lockedUntil: row?.locked_until ? new Date(row.locked_until) : new Date(Date.now() + policy.lockoutMinutes * 60_000) };
}

/**
 * The claimed attempt was wrong: it stays counted. The one that locked the
 * credentials is audited, once.
 */
export async function settleFailedAttempt(
  db: Kysely<Database>,
  accountId: string,
  userId: string,
  claim: Extract<AttemptClaim, { claimed: true }>,
  ip: string | null,
): Promise<{ locked: true; lockedUntil: Date } | { locked: false; attemptsLeft: number }> {
  if (!claim.lockedUntil) return { locked: false, attemptsLeft: claim.maxFailures - claim.attempt };
  await recordAudit(db, { userId: null, ip }, {
    accountId,
    action: 'user.locked_out',
    targetType: 'user',
    targetId: userId,
    after: { lockedUntil: claim.lockedUntil.toISOString(), failures: claim.attempt },
  });
  return { locked: true, lockedUntil: claim.lockedUntil };
}
