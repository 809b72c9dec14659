import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identifyUser, resolveSession, signIn, type LoginIdentity, type SignInPolicy } from '@carillon/core';
import { sql, type Db } from '@carillon/db';
import { freshDb } from '../../../tests/support/env.ts';
import {
  GOOD_CREDENTIALS,
  POLICY,
  activatedAccount,
  addUser,
  auditEvents,
  json,
  newAccount,
  testLimiter,
  uniq,
} from './support.ts';

let db: Db;
let rl: ReturnType<typeof testLimiter>;
beforeAll(async () => {
  db = await freshDb();
  rl = testLimiter();
});
afterAll(async () => {
  await rl?.cleanup();
  await db?.destroy();
});

let ipSeq = 1;
/** A fresh documentation-range IP per attempt series, so per-IP buckets do not interfere between tests. */
const freshIp = () => `192.0.2.${ipSeq++}`;

const attempt = (identity: LoginIdentity, password: string, ip = freshIp()) => ({
  identity,
  password,
  ip,
  userAgent: 'vitest',
});
const byEmail = (email: string): LoginIdentity => ({ kind: 'email', email });
const byPhone = (number: string, extension?: string): LoginIdentity => ({
  kind: 'phone',
  country: 'US',
  number,
  extension,
});

describe('signIn', () => {
  it('signs in by e-mail, whatever its case, and opens a session', async () => {
    const acct = await activatedAccount(db);
    const res = await signIn(
      db,
      rl.limiter,
      POLICY,
      attempt(byEmail(acct.email.toUpperCase()), GOOD_CREDENTIALS.password, '192.0.2.200'),
    );
    if (!res.ok) throw new Error(JSON.stringify(res));
    expect(res).toMatchObject({ userId: acct.userId, accountId: acct.accountId, setupComplete: false });
    const session = await resolveSession(db, res.sessionToken);
    expect(session?.user.id).toBe(acct.userId);
    const row = await db
      .selectFrom('sessions')
      .selectAll()
      .where('id', '=', session!.sessionId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ ip: '192.0.2.200', user_agent: 'vitest' });
  });

  it('signs in by phone number plus extension, in short and in full (site code) form', async () => {
    const acct = await activatedAccount(db);
    const ok = await signIn(
      db,
      rl.limiter,
      POLICY,
      attempt(byPhone(acct.mainNumber, '101'), GOOD_CREDENTIALS.password),
    );
    expect(ok).toMatchObject({ ok: true, userId: acct.userId });
    // The number as people type it, in national format.
    const national = acct.mainNumber.slice(2).replace(/^(\d{3})(\d{3})(\d{4})$/, '($1) $2-$3');
    expect(
      await signIn(db, rl.limiter, POLICY, attempt(byPhone(national, '101'), GOOD_CREDENTIALS.password)),
    ).toMatchObject({ ok: true, userId: acct.userId });

    await db.updateTable('sites').set({ site_code: '22' }).where('account_id', '=', acct.accountId).execute();
    expect(
      await signIn(
        db,
        rl.limiter,
        POLICY,
        attempt(byPhone(acct.mainNumber, '22101'), GOOD_CREDENTIALS.password),
      ),
    ).toMatchObject({ ok: true, userId: acct.userId });
    expect(
      await signIn(
        db,
        rl.limiter,
        POLICY,
        attempt(byPhone(acct.mainNumber, '101'), GOOD_CREDENTIALS.password),
      ),
    ).toMatchObject({ ok: true, userId: acct.userId });

    // An extension that does not exist is an unknown user, answered as a wrong password would be.
    expect(
      await signIn(
        db,
        rl.limiter,
        POLICY,
        attempt(byPhone(acct.mainNumber, '555'), GOOD_CREDENTIALS.password),
      ),
    ).toEqual({
      ok: false,
      reason: 'invalid_credentials',
      attemptsLeft: 2,
    });
  });

  it('takes the main number alone to mean the operator extension', async () => {
    const acct = await activatedAccount(db);
    expect(
      await signIn(db, rl.limiter, POLICY, attempt(byPhone(acct.mainNumber), GOOD_CREDENTIALS.password)),
    ).toMatchObject({ ok: true, userId: acct.userId });

    // Make ext 102 the operator: the bare number now reaches that user, not the Super Admin.
    const op = await addUser(db, acct.accountId, { number: '102', password: 'Ocean4Lantern' });
    await db
      .updateTable('accounts')
      .set({ operator_extension_id: op.extensionId })
      .where('id', '=', acct.accountId)
      .execute();
    expect((await identifyUser(db, byPhone(acct.mainNumber)))?.id).toBe(op.userId);
    expect(
      await signIn(db, rl.limiter, POLICY, attempt(byPhone(acct.mainNumber), 'Ocean4Lantern')),
    ).toMatchObject({ ok: true, userId: op.userId });
    expect(
      await signIn(db, rl.limiter, POLICY, attempt(byPhone(acct.mainNumber), GOOD_CREDENTIALS.password)),
    ).toMatchObject({ ok: false, reason: 'invalid_credentials' });
    expect(
      await signIn(
        db,
        rl.limiter,
        POLICY,
        attempt(byPhone(acct.mainNumber, '101'), GOOD_CREDENTIALS.password),
      ),
    ).toMatchObject({ ok: true, userId: acct.userId });
  });

  it('answers an unknown identity, and a user not yet activated, exactly as a known one: counted down, then locked', async () => {
    const known = await activatedAccount(db);
    const created = await newAccount(db);
    const notActivated = (
      await db.selectFrom('users').select('email').where('id', '=', created.userId).executeTakeFirstOrThrow()
    ).email;
    const answers = async (identity: LoginIdentity, password: string) => {
      const out: unknown[] = [];
      for (let i = 0; i < POLICY.maxFailures + 1; i++) {
        const res = await signIn(db, rl.limiter, POLICY, attempt(identity, password));
        out.push(res.ok ? res : { ...res, ...('lockedUntil' in res ? { lockedUntil: 'set' } : {}) });
      }
      return out;
    };
    const expected = [
      { ok: false, reason: 'invalid_credentials', attemptsLeft: 2 },
      { ok: false, reason: 'invalid_credentials', attemptsLeft: 1 },
      { ok: false, reason: 'locked', lockedUntil: 'set' },
      { ok: false, reason: 'locked', lockedUntil: 'set' },
    ];
    expect(await answers(byEmail(known.email), 'Wrong7Guess')).toEqual(expected);
    expect(await answers(byEmail(`nobody.${uniq()}@acme.example`), 'Wrong7Guess')).toEqual(expected);
    expect(await answers(byPhone('+12125550199', '101'), 'Wrong7Guess')).toEqual(expected);
    // Not activated: no password is right, and the answer does not say the account exists.
    expect(await answers(byEmail(notActivated), GOOD_CREDENTIALS.password)).toEqual(expected);
  });

  it('counts 50 parallel wrong passwords atomically: at most the limit are evaluated, the rest are refused as locked, and so is the right password', async () => {
    const acct = await activatedAccount(db);
    const id = byEmail(acct.email);
    const policy: SignInPolicy = { ...POLICY, maxFailures: 5 };
    const results = await Promise.all(
      Array.from({ length: 50 }, () => signIn(db, rl.limiter, policy, attempt(id, 'Wrong7Guess'))),
    );
    const wrong = results.filter((r) => !r.ok && r.reason === 'invalid_credentials');
    const locked = results.filter((r) => !r.ok && r.reason === 'locked');
    // Four answered "wrong" (attempts 1 to 4, each its own count), the fifth locked, the other 45 were never checked.
    expect(wrong.map((r) => (r.ok ? null : 'attemptsLeft' in r ? r.attemptsLeft : null)).sort()).toEqual([1, 2, 3, 4]);
    expect(locked).toHaveLength(46);
    expect(await auditEvents(db, acct.accountId, 'user.locked_out')).toHaveLength(1);
    expect(await signIn(db, rl.limiter, policy, attempt(id, GOOD_CREDENTIALS.password))).toMatchObject({ ok: false, reason: 'locked' });
  });

  it('counts wrong passwords down, locks after the maximum, stays locked even with the right password, then unlocks', async () => {
    const acct = await activatedAccount(db);
    const id = byEmail(acct.email);
    const ip = '198.51.100.77';

    expect(await signIn(db, rl.limiter, POLICY, attempt(id, 'Wrong7Guess', ip))).toEqual({
      ok: false,
      reason: 'invalid_credentials',
      attemptsLeft: 2,
    });
    expect(await signIn(db, rl.limiter, POLICY, attempt(id, 'Wrong7Guess', ip))).toEqual({
      ok: false,
      reason: 'invalid_credentials',
      attemptsLeft: 1,
    });
    const locked = await signIn(db, rl.limiter, POLICY, attempt(id, 'Wrong7Guess', ip));
    if (locked.ok || locked.reason !== 'locked') throw new Error(JSON.stringify(locked));
    const lockMs = locked.lockedUntil.getTime() - Date.now();
    expect(lockMs).toBeGreaterThan(14 * 60_000);
    expect(lockMs).toBeLessThanOrEqual(15 * 60_000);

    // The right password does not help while locked.
    expect(await signIn(db, rl.limiter, POLICY, attempt(id, GOOD_CREDENTIALS.password))).toMatchObject({
      ok: false,
      reason: 'locked',
    });
    expect(
      await signIn(
        db,
        rl.limiter,
        POLICY,
        attempt(byPhone(acct.mainNumber, '101'), GOOD_CREDENTIALS.password),
      ),
    ).toMatchObject({ ok: false, reason: 'locked' });

    // The lockout is in the audit trail, with the IP it came from.
    const events = await auditEvents(db, acct.accountId, 'user.locked_out');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor_ip: ip, target_type: 'user', target_id: acct.userId });
    expect(json(events[0]!.after)).toMatchObject({
      failures: 3,
      lockedUntil: locked.lockedUntil.toISOString(),
    });

    // Once locked_until has passed, the right password works and the counter starts again.
    await db
      .updateTable('user_credentials')
      .set({ locked_until: sql<Date>`now() - interval '1 second'` })
      .where('user_id', '=', acct.userId)
      .execute();
    expect(await signIn(db, rl.limiter, POLICY, attempt(id, GOOD_CREDENTIALS.password))).toMatchObject({
      ok: true,
      userId: acct.userId,
    });
    const cred = await db
      .selectFrom('user_credentials')
      .select(['failed_attempts', 'locked_until'])
      .where('user_id', '=', acct.userId)
      .executeTakeFirstOrThrow();
    expect(cred).toEqual({ failed_attempts: 0, locked_until: null });
    expect(await signIn(db, rl.limiter, POLICY, attempt(id, 'Wrong7Guess'))).toEqual({
      ok: false,
      reason: 'invalid_credentials',
      attemptsLeft: 2,
    });
  });

  it('resets the failure count after a successful sign-in', async () => {
    const acct = await activatedAccount(db);
    const id = byEmail(acct.email);
    await signIn(db, rl.limiter, POLICY, attempt(id, 'Wrong7Guess'));
    await signIn(db, rl.limiter, POLICY, attempt(id, 'Wrong7Guess'));
    expect(await signIn(db, rl.limiter, POLICY, attempt(id, GOOD_CREDENTIALS.password))).toMatchObject({
      ok: true,
    });
    expect(await signIn(db, rl.limiter, POLICY, attempt(id, 'Wrong7Guess'))).toEqual({
      ok: false,
      reason: 'invalid_credentials',
      attemptsLeft: 2,
    });
  });

  it('refuses a disabled extension even with the right password', async () => {
    const acct = await activatedAccount(db);
    await db
      .updateTable('extensions')
      .set({ status: 'disabled' })
      .where('account_id', '=', acct.accountId)
      .execute();
    expect(
      await signIn(db, rl.limiter, POLICY, attempt(byEmail(acct.email), GOOD_CREDENTIALS.password)),
    ).toEqual({ ok: false, reason: 'disabled' });
  });

  it('rate-limits attempts per IP in Redis, whatever the account', async () => {
    const acct = await activatedAccount(db);
    const policy: SignInPolicy = { ...POLICY, maxFailures: 50, perIpPerMinute: 3 };
    const ip = '198.51.100.99';
    for (let i = 0; i < 3; i++) {
      expect(
        await signIn(
          db,
          rl.limiter,
          policy,
          attempt(byEmail(`nobody${i}.${uniq()}@acme.example`), 'Wrong7Guess', ip),
        ),
      ).toMatchObject({
        ok: false,
        reason: 'invalid_credentials',
      });
    }
    // Over the limit: refused before the password is even looked at.
    expect(
      await signIn(db, rl.limiter, policy, attempt(byEmail(acct.email), GOOD_CREDENTIALS.password, ip)),
    ).toEqual({ ok: false, reason: 'rate_limited' });
    // Another IP is not affected.
    expect(
      await signIn(
        db,
        rl.limiter,
        policy,
        attempt(byEmail(acct.email), GOOD_CREDENTIALS.password, '198.51.100.100'),
      ),
    ).toMatchObject({ ok: true });

    const key = `${rl.prefix}login:ip:${ip}`;
    expect(await rl.redis.get(key)).toBe('4');
    const ttl = await rl.redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('rate-limits attempts per account from many IPs', async () => {
    const acct = await activatedAccount(db);
    const policy: SignInPolicy = { ...POLICY, maxFailures: 50, perAccountPerMinute: 2 };
    expect(await signIn(db, rl.limiter, policy, attempt(byEmail(acct.email), 'Wrong7Guess'))).toMatchObject({
      reason: 'invalid_credentials',
    });
    expect(await signIn(db, rl.limiter, policy, attempt(byEmail(acct.email), 'Wrong7Guess'))).toMatchObject({
      reason: 'invalid_credentials',
    });
    expect(
      await signIn(db, rl.limiter, policy, attempt(byEmail(acct.email), GOOD_CREDENTIALS.password)),
    ).toEqual({ ok: false, reason: 'rate_limited' });
    expect(await rl.redis.get(`${rl.prefix}login:account:${acct.accountId}`)).toBe('3');
    // Another account is not affected.
    const other = await activatedAccount(db);
    expect(
      await signIn(db, rl.limiter, policy, attempt(byEmail(other.email), GOOD_CREDENTIALS.password)),
    ).toMatchObject({ ok: true });
  });

  it('keeps its Redis keys under the test prefix', async () => {
    const keys = await rl.keys();
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith(rl.prefix))).toBe(true);
  });
});
