import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import type { Permission } from '@carillon/domain';
import { tokenId } from './tokens.ts';
import { permissionsOfRole } from '../accounts/roles.ts';
import type { AuthenticatedSession } from './sessions.ts';

/** Every secret starts with this, so secret scanners and people recognise a Carillon token. */
export const API_TOKEN_MARK = 'crl_';
/** How much of the secret is kept in clear to tell tokens apart: the mark and 8 random characters. */
const PREFIX_LENGTH = API_TOKEN_MARK.length + 8;
/** last_used_at is written at most this often, so a busy integration does not turn reads into writes. */
const TOUCH_EVERY_MS = 15_000;

export const looksLikeApiToken = (secret: string) => secret.startsWith(API_TOKEN_MARK) && /^[A-Za-z0-9_-]{40,100}$/.test(secret);

export interface NewApiToken {
  accountId: string;
  createdBy: string;
  roleId: string;
  name: string;
  expiresAt: Date | null;
}

/** Stores a new token and returns its id and its secret: the only time the secret exists outside the caller's hands. */
export async function issueApiToken(db: Kysely<Database>, t: NewApiToken): Promise<{ id: string; secret: string; prefix: string }> {
  const secret = API_TOKEN_MARK + randomBytes(32).toString('base64url');
  const prefix = secret.slice(0, PREFIX_LENGTH);
  const row = await db
    .insertInto('api_tokens')
    .values({ account_id: t.accountId, created_by: t.createdBy, role_id: t.roleId, name: t.name, token_hash: tokenId(secret), prefix, expires_at: t.expiresAt })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, secret, prefix };
}

/**
 * Resolves a bearer secret to the account it belongs to, acting as its
 * creator with the token's role, never more than the creator holds today:
 * a creator who loses a permission (or is disabled) takes it from their tokens.
 * Revoked, expired or unknown tokens give null.
 */
export async function resolveApiToken(db: Kysely<Database>, secret: string): Promise<AuthenticatedSession | null> {
  if (!looksLikeApiToken(secret)) return null;
  const token = await db.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenId(secret)).where('revoked_at', 'is', null).executeTakeFirst();
  if (!token) return null;
  const now = Date.now();
  if (token.expires_at && new Date(token.expires_at).getTime() <= now) return null;
  const account = await db.selectFrom('accounts').selectAll().where('id', '=', token.account_id).executeTakeFirst();
  const user = await db.selectFrom('users').selectAll().where('id', '=', token.created_by).where('account_id', '=', token.account_id).executeTakeFirst();
  if (!account || !user) return null;
  const ext = await db
    .selectFrom('extensions')
    .select(['number', 'status'])
    .where('id', '=', user.extension_id)
    .where('account_id', '=', account.id)
    .executeTakeFirst();
  if (!ext || ext.status === 'disabled') return null;
  const [granted, held] = await Promise.all([permissionsOfRole(db, token.role_id), permissionsOfRole(db, user.role_id)]);
  const permissions = new Set<Permission>([...granted].filter((p) => held.has(p)));
  if (!token.last_used_at || now - new Date(token.last_used_at).getTime() > TOUCH_EVERY_MS) {
    await db.updateTable('api_tokens').set({ last_used_at: new Date(now) }).where('id', '=', token.id).execute();
  }
  return {
    sessionId: `api-token:${token.id}`,
    apiTokenId: token.id,
    user,
    account,
    extensionNumber: ext.number,
    permissions,
    idleExpiresAt: token.expires_at ? new Date(token.expires_at) : new Date(now + 365 * 86_400_000),
  };
}
