import type { Kysely } from 'kysely';
import type { Database, RoleScope } from '@carillon/db';
import { PERMISSIONS, type Permission } from '@carillon/domain';
import { permissionsOfRole } from './roles.ts';

/**
 * Nobody grants a right they do not hold (seed 000 "Rôles et autorisations").
 * Every path that gives a user a role, or shapes a role, asks `refuseGrant`:
 * the role editor, PATCH /api/users/[id], the "Assign role" bulk action, the
 * bulk edit by table, the Add Users wizard, templates (when made and when
 * applied, by the job too). One rule, one place.
 */

/** Whose users an administrator may see and change, from the scope of their role (seed 000, the "Role Domain"). */
export type UserScope = { kind: 'account' } | { kind: 'sites'; siteIds: string[] } | { kind: 'groups'; managerId: string };

/** Who grants: their account, their own role (for its scope) and the permissions they act with (an API token may narrow them). */
export interface Granter {
  accountId: string;
  userId: string;
  roleId: string;
  permissions: ReadonlySet<Permission>;
}

/** What is granted: a role's permissions and the scope its holders administer. */
export interface Grant {
  permissions: readonly Permission[];
  scope: RoleScope;
  siteIds: readonly string[];
}

export type GrantRefusal = { reason: 'role_not_found' } | { reason: 'permission_not_held'; permissions: Permission[] } | { reason: 'scope_too_narrow' };

/** The granter of a signed-in session (or API token, whose permissions are already narrowed). */
export const granterOf = (auth: { account: { id: string }; user: { id: string; role_id: string }; permissions: ReadonlySet<Permission> }): Granter => ({
  accountId: auth.account.id,
  userId: auth.user.id,
  roleId: auth.user.role_id,
  permissions: auth.permissions,
});

/** The granter as they are now, from the database (a background job acting for a user); null once they are gone. */
export async function granterNow(db: Kysely<Database>, accountId: string, userId: string): Promise<Granter | null> {
  const user = await db.selectFrom('users').select(['id', 'role_id']).where('account_id', '=', accountId).where('id', '=', userId).executeTakeFirst();
  return user ? { accountId, userId: user.id, roleId: user.role_id, permissions: await permissionsOfRole(db, user.role_id) } : null;
}

export async function scopeOfRole(db: Kysely<Database>, accountId: string, userId: string, roleId: string): Promise<UserScope> {
  const role = await db.selectFrom('roles').select(['id', 'scope']).where('id', '=', roleId).executeTakeFirst();
  if (!role || role.scope === 'account') return { kind: 'account' };
  if (role.scope === 'groups') return { kind: 'groups', managerId: userId };
  const sites = await db
    .selectFrom('role_sites')
    .innerJoin('sites', 'sites.id', 'role_sites.site_id')
    .select('sites.id')
    .where('role_sites.role_id', '=', role.id)
    .where('sites.account_id', '=', accountId)
    .execute();
  return { kind: 'sites', siteIds: sites.map((s) => s.id) };
}

/** Whether a scope includes every user another scope does: a scoped admin may not hand out a wider one. */
export function scopeCovers(outer: UserScope, inner: { kind: UserScope['kind']; siteIds?: readonly string[] }): boolean {
  if (outer.kind === 'account') return true;
  if (outer.kind === 'sites') return inner.kind === 'sites' && (inner.siteIds ?? []).every((s) => outer.siteIds.includes(s));
  return inner.kind === 'groups';
}

/** What holding this role grants: a predefined role, or a custom role of this account; null for any other id. */
export async function grantOfRole(db: Kysely<Database>, accountId: string, roleId: string): Promise<Grant | null> {
  const role = await db
    .selectFrom('roles')
    .select(['id', 'scope'])
    .where('id', '=', roleId)
    .where((eb) => eb.or([eb('account_id', '=', accountId), eb('account_id', 'is', null)]))
    .executeTakeFirst();
  if (!role) return null;
  const sites = role.scope === 'sites' ? await db.selectFrom('role_sites').select('site_id').where('role_id', '=', role.id).execute() : [];
  return { permissions: [...(await permissionsOfRole(db, role.id))], scope: role.scope, siteIds: sites.map((s) => s.site_id) };
}

/**
 * Why the granter may not grant this role (by id) or these rights, or null
 * when they may: every permission must be one they hold, and the scope must
 * lie within their own.
 */
export async function refuseGrant(db: Kysely<Database>, granter: Granter, what: { roleId: string } | Grant): Promise<GrantRefusal | null> {
  const grant = 'roleId' in what ? await grantOfRole(db, granter.accountId, what.roleId) : what;
  if (!grant) return { reason: 'role_not_found' };
  const missing = PERMISSIONS.filter((p) => grant.permissions.includes(p) && !granter.permissions.has(p));
  if (missing.length) return { reason: 'permission_not_held', permissions: missing };
  const scope = await scopeOfRole(db, granter.accountId, granter.userId, granter.roleId);
  return scopeCovers(scope, { kind: grant.scope, siteIds: [...grant.siteIds] }) ? null : { reason: 'scope_too_narrow' };
}

/** The refusal in words, for a bulk report's reason column or an error message. */
export function grantRefusalText(r: GrantRefusal): string {
  switch (r.reason) {
    case 'role_not_found':
      return 'no such role';
    case 'permission_not_held':
      return `you cannot grant permissions you do not hold: ${r.permissions.join(', ')}`;
    case 'scope_too_narrow':
      return 'you cannot grant a role wider than your own scope';
  }
}
