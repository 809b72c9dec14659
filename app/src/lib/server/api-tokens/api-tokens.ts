import { z } from 'zod';
import { sql } from 'kysely';
import { issueApiToken, permissionsOfRole, recordAudit, type AuditActor, type AuthenticatedSession } from '@carillon/core';
import type { Db } from '@carillon/db';

/** POST /api/api-tokens: a name, the role the token acts with, and an optional expiry (in the future). */
export const apiTokenInput = z
  .object({
    name: z.string().trim().min(1).max(60),
    roleId: z.uuid(),
    expiresAt: z.iso
      .datetime({ offset: true })
      .nullable()
      .optional()
      .refine((v) => !v || new Date(v).getTime() > Date.now(), 'must_be_in_the_future'),
  })
  .strict();
export type ApiTokenInput = z.output<typeof apiTokenInput>;

export const apiTokenView = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string().describe('The first characters of the secret, to recognise the token'),
  roleId: z.uuid(),
  roleKey: z.string().nullable(),
  roleName: z.string(),
  createdBy: z.uuid(),
  createdByName: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  status: z.enum(['active', 'expired', 'revoked']),
});
export type ApiTokenView = z.infer<typeof apiTokenView>;
export const createdApiToken = apiTokenView.extend({ secret: z.string().describe('Shown once: it cannot be read again') });

export class ApiTokenError extends Error {
  readonly code: 'role_not_found' | 'role_exceeds_caller';
  constructor(code: ApiTokenError['code']) {
    super(code);
    this.code = code;
  }
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

function baseQuery(db: Db, accountId: string) {
  return db
    .selectFrom('api_tokens as t')
    .innerJoin('roles as r', 'r.id', 't.role_id')
    .innerJoin('users as u', 'u.id', 't.created_by')
    .select([
      't.id',
      't.name',
      't.prefix',
      't.role_id',
      'r.key as role_key',
      'r.name as role_name',
      't.created_by',
      sql<string>`trim(u.first_name || ' ' || u.last_name)`.as('created_by_name'),
      't.created_at',
      't.expires_at',
      't.last_used_at',
      't.revoked_at',
    ])
    .where('t.account_id', '=', accountId);
}
type Row = Awaited<ReturnType<ReturnType<typeof baseQuery>['executeTakeFirstOrThrow']>>;

function view(r: Row): ApiTokenView {
  const expired = r.expires_at !== null && new Date(r.expires_at).getTime() <= Date.now();
  return {
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    roleId: r.role_id,
    roleKey: r.role_key,
    roleName: r.role_name,
    createdBy: r.created_by,
    createdByName: r.created_by_name,
    createdAt: iso(r.created_at)!,
    expiresAt: iso(r.expires_at),
    lastUsedAt: iso(r.last_used_at),
    revokedAt: iso(r.revoked_at),
    status: r.revoked_at ? 'revoked' : expired ? 'expired' : 'active',
  };
}

export async function listApiTokens(db: Db, accountId: string): Promise<ApiTokenView[]> {
  return (await baseQuery(db, accountId).orderBy('t.created_at', 'desc').execute()).map(view);
}

export async function getApiToken(db: Db, accountId: string, id: string): Promise<ApiTokenView | null> {
  const row = await baseQuery(db, accountId).where('t.id', '=', id).executeTakeFirst();
  return row ? view(row) : null;
}

/** The roles a caller may give a token: the account's and the predefined ones, each within the caller's own permissions. */
export async function grantableRoles(db: Db, auth: AuthenticatedSession): Promise<{ id: string; key: string | null; name: string }[]> {
  const roles = await db
    .selectFrom('roles')
    .select(['id', 'key', 'name'])
    .where((eb) => eb.or([eb('account_id', 'is', null), eb('account_id', '=', auth.account.id)]))
    .orderBy('created_at')
    .orderBy('name')
    .execute();
  const allowed = await Promise.all(roles.map(async (r) => [...(await permissionsOfRole(db, r.id))].every((p) => auth.permissions.has(p))));
  return roles.filter((_, i) => allowed[i]);
}

/** Creates a token and audits it; the secret is returned to show once and is in no audit row or log. */
export async function createApiToken(
  db: Db,
  actor: AuditActor,
  auth: AuthenticatedSession,
  input: ApiTokenInput,
): Promise<ApiTokenView & { secret: string }> {
  const role = await db
    .selectFrom('roles')
    .select(['id', 'name'])
    .where('id', '=', input.roleId)
    .where((eb) => eb.or([eb('account_id', 'is', null), eb('account_id', '=', auth.account.id)]))
    .executeTakeFirst();
  if (!role) throw new ApiTokenError('role_not_found');
  const granted = await permissionsOfRole(db, role.id);
  if (![...granted].every((p) => auth.permissions.has(p))) throw new ApiTokenError('role_exceeds_caller');
  return db.transaction().execute(async (trx) => {
    const issued = await issueApiToken(trx, {
      accountId: auth.account.id,
      createdBy: auth.user.id,
      roleId: role.id,
      name: input.name,
      expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
    });
    await recordAudit(trx, actor, {
      accountId: auth.account.id,
      action: 'api_token.created',
      targetType: 'api_token',
      targetId: issued.id,
      after: { name: input.name, prefix: issued.prefix, role: role.name, expiresAt: input.expiresAt ?? null },
    });
    const created = await baseQuery(trx, auth.account.id).where('t.id', '=', issued.id).executeTakeFirstOrThrow();
    return { ...view(created), secret: issued.secret };
  });
}

/** Revokes a token of the account: at once, for every request after this one. Null if no such token. */
export async function revokeApiToken(db: Db, actor: AuditActor, accountId: string, id: string): Promise<ApiTokenView | null> {
  return db.transaction().execute(async (trx) => {
    const res = await trx
      .updateTable('api_tokens')
      .set({ revoked_at: new Date() })
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .returning(['name', 'prefix'])
      .executeTakeFirst();
    if (res) {
      await recordAudit(trx, actor, { accountId, action: 'api_token.revoked', targetType: 'api_token', targetId: id, before: { name: res.name, prefix: res.prefix } });
    }
    const row = await baseQuery(trx, accountId).where('t.id', '=', id).executeTakeFirst();
    return row ? view(row) : null;
  });
}
