import type { Kysely } from 'kysely';
import type { Account, Database, User } from '@carillon/db';
import type { Permission } from '@carillon/domain';
import { newToken, tokenId } from './tokens.ts';
import { permissionsOfRole } from '../accounts/roles.ts';

export const SESSION_COOKIE = 'carillon_session';
/** The warning dialog gives this long to click OK before the session ends (seed 000 "délai d'expiration de la session"). */
export const SESSION_GRACE_SECONDS = 60;
/** last_seen_at is written at most this often, so reading pages does not turn into a write storm. */
const TOUCH_EVERY_MS = 15_000;

export interface AuthenticatedSession {
  sessionId: string;
  user: User;
  account: Account;
  extensionNumber: string;
  permissions: ReadonlySet<Permission>;
  /** When the session ends if nothing more happens (idle timeout of the account). */
  idleExpiresAt: Date;
  /** Set when the caller is an integration's API token rather than a signed-in browser. */
  apiTokenId?: string;
}

export async function createSession(
  db: Kysely<Database>,
  s: { accountId: string; userId: string; ip: string | null; userAgent: string | null },
): Promise<string> {
  const { token, id } = newToken();
  await db
    .insertInto('sessions')
    .values({ id, account_id: s.accountId, user_id: s.userId, ip: s.ip, user_agent: s.userAgent?.slice(0, 300) ?? null })
    .execute();
  return token;
}

/**
 * Resolves a session cookie to its user, account and permissions. A session
 * idle longer than the account's timeout is ended here, on the server, so a
 * closed laptop cannot come back to a live session.
 */
export async function resolveSession(
  db: Kysely<Database>,
  token: string | undefined,
  opts: { touch?: boolean } = {},
): Promise<AuthenticatedSession | null> {
  if (!token || token.length > 100) return null;
  const id = tokenId(token);
  const session = await db
    .selectFrom('sessions')
    .selectAll()
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!session) return null;
  const account = await db.selectFrom('accounts').selectAll().where('id', '=', session.account_id).executeTakeFirst();
  const user = await db
    .selectFrom('users')
    .selectAll()
    .where('id', '=', session.user_id)
    .where('account_id', '=', session.account_id)
    .executeTakeFirst();
  if (!account || !user) return null;
  const ext = await db
    .selectFrom('extensions')
    .select(['number', 'status'])
    .where('id', '=', user.extension_id)
    .where('account_id', '=', account.id)
    .executeTakeFirst();
  if (!ext || ext.status === 'disabled') {
    await revokeSession(db, token);
    return null;
  }
  const timeoutMs = account.session_timeout_minutes * 60_000;
  const lastSeen = new Date(session.last_seen_at).getTime();
  const now = Date.now();
  if (now - lastSeen > timeoutMs + SESSION_GRACE_SECONDS * 1000) {
    await revokeSession(db, token);
    return null;
  }
  let seen = lastSeen;
  if (opts.touch !== false && now - lastSeen > TOUCH_EVERY_MS) {
    await db.updateTable('sessions').set({ last_seen_at: new Date(now) }).where('id', '=', id).execute();
    seen = now;
  }
  return {
    sessionId: id,
    user,
    account,
    extensionNumber: ext.number,
    permissions: await permissionsOfRole(db, user.role_id),
    idleExpiresAt: new Date(seen + timeoutMs),
  };
}

export async function touchSession(db: Kysely<Database>, sessionId: string): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: new Date() }).where('id', '=', sessionId).execute();
}

export async function revokeSession(db: Kysely<Database>, token: string): Promise<void> {
  await db.updateTable('sessions').set({ revoked_at: new Date() }).where('id', '=', tokenId(token)).execute();
}

/** Every other session of this user (after a password change): the one that made the change stays. */
export async function revokeOtherSessions(db: Kysely<Database>, accountId: string, userId: string, keepSessionId: string): Promise<number> {
  const res = await db
    .updateTable('sessions')
    .set({ revoked_at: new Date() })
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .where('id', '!=', keepSessionId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** "Log out everywhere": every session of this user, on every device. */
export async function revokeAllSessions(db: Kysely<Database>, accountId: string, userId: string): Promise<number> {
  const res = await db
    .updateTable('sessions')
    .set({ revoked_at: new Date() })
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
