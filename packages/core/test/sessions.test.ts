import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SESSION_GRACE_SECONDS,
  createSession,
  resolveSession,
  revokeAllSessions,
  revokeSession,
  updateAccountSettings,
} from '@carillon/core';
import { sql, type Db } from '@carillon/db';
import { freshDb } from '../../../tests/support/env.ts';
import { activatedAccount, addUser } from './support.ts';

let db: Db;
beforeAll(async () => {
  db = await freshDb();
});
afterAll(async () => {
  await db?.destroy();
});

/** Sets the session's last activity `seconds` ago, by the database clock. */
async function idleFor(token: string, seconds: number): Promise<void> {
  const session = await resolveSession(db, token, { touch: false });
  if (!session) throw new Error('session already gone');
  await db
    .updateTable('sessions')
    .set({ last_seen_at: sql<Date>`now() - make_interval(secs => ${seconds})` })
    .where('id', '=', session.sessionId)
    .execute();
}

const revokedAt = async (userId: string) =>
  await db
    .selectFrom('sessions')
    .select(['revoked_at', 'last_seen_at'])
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .execute();

describe('sessions', () => {
  it('resolves a session to its user, account, extension and permissions', async () => {
    const acct = await activatedAccount(db);
    const s = await resolveSession(db, acct.sessionToken);
    expect(s).not.toBeNull();
    expect(s!.user.id).toBe(acct.userId);
    expect(s!.account.id).toBe(acct.accountId);
    expect(s!.extensionNumber).toBe('101');
    expect(s!.permissions.has('account.settings')).toBe(true);
    expect(s!.permissions.has('admin.portal')).toBe(true);
    const idleMs = s!.idleExpiresAt.getTime() - Date.now();
    expect(idleMs).toBeGreaterThan(29 * 60_000);
    expect(idleMs).toBeLessThanOrEqual(30 * 60_000);

    const std = await addUser(db, acct.accountId, { number: '102' });
    const token = await createSession(db, {
      accountId: acct.accountId,
      userId: std.userId,
      ip: null,
      userAgent: null,
    });
    const perms = (await resolveSession(db, token))!.permissions;
    expect(perms.has('account.settings')).toBe(false);
    expect(perms.has('self.settings')).toBe(true);
  });

  it('refuses missing, oversized and unknown tokens', async () => {
    expect(await resolveSession(db, undefined)).toBeNull();
    expect(await resolveSession(db, '')).toBeNull();
    expect(await resolveSession(db, 'x'.repeat(101))).toBeNull();
    expect(await resolveSession(db, 'A'.repeat(43))).toBeNull();
  });

  it("keeps an idle session within the account's timeout plus grace, and records the activity", async () => {
    const acct = await activatedAccount(db);
    await idleFor(acct.sessionToken, 30 * 60 + SESSION_GRACE_SECONDS - 20);
    const s = await resolveSession(db, acct.sessionToken);
    expect(s?.user.id).toBe(acct.userId);
    const [row] = await revokedAt(acct.userId);
    expect(row!.revoked_at).toBeNull();
    // Touched: last_seen_at is now again.
    expect(Math.abs(new Date(row!.last_seen_at).getTime() - Date.now())).toBeLessThan(10_000);
  });

  it("ends a session idle beyond the account's timeout plus grace, on the server", async () => {
    const acct = await activatedAccount(db);
    await idleFor(acct.sessionToken, 30 * 60 + SESSION_GRACE_SECONDS + 20);
    expect(await resolveSession(db, acct.sessionToken)).toBeNull();
    const [row] = await revokedAt(acct.userId);
    expect(row!.revoked_at).not.toBeNull();
    // Revoked for good: bringing last_seen_at back does not revive it.
    await db
      .updateTable('sessions')
      .set({ last_seen_at: sql<Date>`now()` })
      .where('user_id', '=', acct.userId)
      .execute();
    expect(await resolveSession(db, acct.sessionToken)).toBeNull();
  });

  it('uses the session timeout the account chose', async () => {
    const acct = await activatedAccount(db);
    await updateAccountSettings(
      db,
      acct.accountId,
      { userId: acct.userId, ip: '203.0.113.5' },
      { sessionTimeoutMinutes: 5 },
    );
    expect(
      (
        await db
          .selectFrom('accounts')
          .select('session_timeout_minutes')
          .where('id', '=', acct.accountId)
          .executeTakeFirstOrThrow()
      ).session_timeout_minutes,
    ).toBe(5);
    await idleFor(acct.sessionToken, 5 * 60 + SESSION_GRACE_SECONDS + 20);
    expect(await resolveSession(db, acct.sessionToken)).toBeNull();
    const event = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('account_id', '=', acct.accountId)
      .where('action', '=', 'security.session_timeout_updated')
      .executeTakeFirstOrThrow();
    expect(event).toMatchObject({
      actor_user_id: acct.userId,
      actor_ip: '203.0.113.5',
      before: { session_timeout_minutes: 30 },
      after: { session_timeout_minutes: 5 },
    });
  });

  it('ends the session of a disabled extension', async () => {
    const acct = await activatedAccount(db);
    await db
      .updateTable('extensions')
      .set({ status: 'disabled' })
      .where('account_id', '=', acct.accountId)
      .execute();
    expect(await resolveSession(db, acct.sessionToken)).toBeNull();
    expect((await revokedAt(acct.userId))[0]!.revoked_at).not.toBeNull();
  });

  it('logs out one session', async () => {
    const acct = await activatedAccount(db);
    const second = await createSession(db, {
      accountId: acct.accountId,
      userId: acct.userId,
      ip: null,
      userAgent: null,
    });
    await revokeSession(db, acct.sessionToken);
    expect(await resolveSession(db, acct.sessionToken)).toBeNull();
    expect((await resolveSession(db, second))?.user.id).toBe(acct.userId);
  });

  it("logs out everywhere: every session of that user, and no one else's", async () => {
    const acct = await activatedAccount(db);
    const laptop = await createSession(db, {
      accountId: acct.accountId,
      userId: acct.userId,
      ip: '203.0.113.1',
      userAgent: 'laptop',
    });
    const colleague = await addUser(db, acct.accountId, { number: '102' });
    const theirs = await createSession(db, {
      accountId: acct.accountId,
      userId: colleague.userId,
      ip: null,
      userAgent: null,
    });
    const elsewhere = await activatedAccount(db);

    expect(await revokeAllSessions(db, acct.accountId, acct.userId)).toBe(2);
    expect(await resolveSession(db, acct.sessionToken)).toBeNull();
    expect(await resolveSession(db, laptop)).toBeNull();
    expect((await resolveSession(db, theirs))?.user.id).toBe(colleague.userId);
    expect((await resolveSession(db, elsewhere.sessionToken))?.user.id).toBe(elsewhere.userId);
    // Nothing left to revoke.
    expect(await revokeAllSessions(db, acct.accountId, acct.userId)).toBe(0);
    // Scoped by account: another account's id does not reach this user's sessions.
    const fresh = await createSession(db, {
      accountId: acct.accountId,
      userId: acct.userId,
      ip: null,
      userAgent: null,
    });
    expect(await revokeAllSessions(db, elsewhere.accountId, acct.userId)).toBe(0);
    expect((await resolveSession(db, fresh))?.user.id).toBe(acct.userId);
  });
});
