import type { Redis } from 'ioredis';
import {
  activateAccount,
  createAccount,
  hashSecret,
  redisRateLimiter,
  type CreateAccountInput,
  type CreatedAccount,
  type CredentialsInput,
  type RateLimiter,
  type SignInPolicy,
} from '@carillon/core';
import type { Db } from '@carillon/db';
import { redisClient, runId } from '../../../tests/support/env.ts';

/** Shared by the core test files: real PGlite (freshDb) and the real Redis, nothing mocked. */

let seq = 0;
/** Unique per call, even within one millisecond. */
export const uniq = () => `${runId()}${(seq++).toString(36)}`;

export const GOOD_CREDENTIALS: CredentialsInput = {
  password: 'Tulip7Harbor',
  passwordConfirm: 'Tulip7Harbor',
  pin: '482915',
  pinConfirm: '482915',
  securityQuestion: 'first_car',
  securityAnswer: 'Rusty Bucket',
};

export const POLICY: SignInPolicy = {
  maxFailures: 3,
  lockoutMinutes: 15,
  perIpPerMinute: 1000,
  perAccountPerMinute: 1000,
};

export const ctx = (ip = '203.0.113.10') => ({ ip, userAgent: 'vitest' });

export function newAccount(db: Db, input: Partial<CreateAccountInput> = {}): Promise<CreatedAccount> {
  return createAccount(
    db,
    {
      company: 'Acme Labs',
      email: `marie.${uniq()}@acme.example`,
      firstName: 'Marie',
      lastName: 'Curie',
      ...input,
    },
    { activationTtlHours: 48 },
  );
}

export interface ActivatedAccount extends CreatedAccount {
  email: string;
  sessionToken: string;
}

/** An account whose Super Admin (ext 101) has set password, PIN and security answer. */
export async function activatedAccount(
  db: Db,
  input: Partial<CreateAccountInput> = {},
): Promise<ActivatedAccount> {
  const email = input.email ?? `marie.${uniq()}@acme.example`;
  const created = await newAccount(db, { ...input, email });
  const res = await activateAccount(db, created.activationToken, GOOD_CREDENTIALS, ctx());
  if (!res.ok) throw new Error(`activation failed: ${JSON.stringify(res)}`);
  return { ...created, email: email.toLowerCase(), sessionToken: res.sessionToken };
}

/** A second, already activated user on the account's main site. */
export async function addUser(
  db: Db,
  accountId: string,
  u: { number: string; email?: string; firstName?: string; password?: string; roleKey?: string },
): Promise<{ userId: string; extensionId: string; email: string }> {
  const site = await db
    .selectFrom('sites')
    .select('id')
    .where('account_id', '=', accountId)
    .where('is_main', '=', true)
    .executeTakeFirstOrThrow();
  const ext = await db
    .insertInto('extensions')
    .values({ account_id: accountId, site_id: site.id, number: u.number, type: 'user', status: 'activated' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const role = await db
    .selectFrom('roles')
    .select('id')
    .where('key', '=', u.roleKey ?? 'standard')
    .executeTakeFirstOrThrow();
  const email = u.email ?? `user.${uniq()}@acme.example`;
  const user = await db
    .insertInto('users')
    .values({
      account_id: accountId,
      extension_id: ext.id,
      role_id: role.id,
      first_name: u.firstName ?? 'Pierre',
      last_name: 'Dupont',
      email,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('user_credentials')
    .values({ user_id: user.id, password_hash: u.password ? await hashSecret(u.password) : null })
    .execute();
  return { userId: user.id, extensionId: ext.id, email };
}

/** A rate limiter on the real Redis under a prefix private to one test file; `cleanup` deletes its keys. */
export function testLimiter(): {
  redis: Redis;
  limiter: RateLimiter;
  prefix: string;
  keys: () => Promise<string[]>;
  cleanup: () => Promise<void>;
} {
  const redis = redisClient();
  const prefix = `carillon:test:${uniq()}:`;
  const keys = () => redis.keys(`${prefix}*`);
  return {
    redis,
    limiter: redisRateLimiter(redis, prefix),
    prefix,
    keys,
    async cleanup() {
      const found = await keys();
      if (found.length) await redis.del(...found);
      redis.disconnect();
    },
  };
}

export async function auditEvents(db: Db, accountId: string, action?: string) {
  let q = db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId);
  if (action) q = q.where('action', '=', action);
  return q.orderBy('id').execute();
}

/** jsonb comes back parsed from PGlite; accept a string too so the helpers work on any driver. */
export const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);
