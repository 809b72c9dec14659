import { sql, type Kysely } from 'kysely';
import type { Database, TokenPurpose } from '@carillon/db';
import { newToken, tokenId } from './tokens.ts';

/**
 * Issues a one-time token (activation link, password reset) and returns the
 * secret part for the link. With `supersede`, the user's older tokens of the
 * same purpose stop working: only the newest reset link is good.
 */
export async function issueUserToken(
  db: Kysely<Database>,
  t: { accountId: string; userId: string; purpose: TokenPurpose; ttlMs: number; supersede?: boolean },
): Promise<string> {
  if (t.supersede) await expireUserTokens(db, t.userId, t.purpose);
  const { token, id } = newToken();
  await db
    .insertInto('user_tokens')
    .values({
      id,
      account_id: t.accountId,
      user_id: t.userId,
      purpose: t.purpose,
      expires_at: new Date(Date.now() + t.ttlMs),
    })
    .execute();
  return token;
}

export type TokenCheck =
  | { status: 'valid'; accountId: string; userId: string }
  | { status: 'expired' | 'used' | 'invalid' };

export async function checkUserToken(db: Kysely<Database>, token: string, purpose: TokenPurpose): Promise<TokenCheck> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return { status: 'invalid' };
  const row = await db
    .selectFrom('user_tokens')
    .selectAll()
    .where('id', '=', tokenId(token))
    .where('purpose', '=', purpose)
    .executeTakeFirst();
  if (!row) return { status: 'invalid' };
  if (row.used_at) return { status: 'used' };
  if (new Date(row.expires_at).getTime() < Date.now()) return { status: 'expired' };
  return { status: 'valid', accountId: row.account_id, userId: row.user_id };
}

/** Marks the token used; false if someone else used it first (two tabs submitting at once). */
export async function consumeUserToken(db: Kysely<Database>, token: string): Promise<boolean> {
  const res = await db
    .updateTable('user_tokens')
    .set({ used_at: new Date() })
    .where('id', '=', tokenId(token))
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Ends every still-usable token of this purpose of the user (they then read as expired). */
export async function expireUserTokens(db: Kysely<Database>, userId: string, purpose: TokenPurpose): Promise<void> {
  await db
    .updateTable('user_tokens')
    .set({ expires_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .execute();
}
