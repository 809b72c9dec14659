import type { RawBuilder, SqlBool } from 'kysely';
import { sql, type Db } from '@carillon/db';
import { scopeOfRole, type AuthenticatedSession, type UserScope } from '@carillon/core';

/**
 * Whose users an administrator may see and change, from the scope of their
 * role (seed 000 "Rôles et autorisations", the "Role Domain"; "Groupes
 * d'utilisateurs": a group manager sees only their members' data).
 */
export type { UserScope } from '@carillon/core';

export function userScopeOf(db: Db, auth: AuthenticatedSession): Promise<UserScope> {
  return scopeOfRole(db, auth.account.id, auth.user.id, auth.user.role_id);
}

const none = sql<SqlBool>`false`;

/** A condition on a users.id-like column: the user is within the scope. Null when the scope is the whole account. */
export function userInScope(scope: UserScope, accountId: string, userIdColumn: RawBuilder<unknown>): RawBuilder<SqlBool> | null {
  switch (scope.kind) {
    case 'account':
      return null;
    case 'sites':
      if (!scope.siteIds.length) return none;
      return sql<SqlBool>`${userIdColumn} in (select su.id from users su join extensions se on se.id = su.extension_id where su.account_id = ${accountId} and se.site_id in (${sql.join(scope.siteIds)}))`;
    case 'groups':
      return sql<SqlBool>`${userIdColumn} in (select gm.user_id from user_group_members gm join user_groups g on g.id = gm.group_id where g.account_id = ${accountId} and g.manager_user_id = ${scope.managerId})`;
  }
}

/** The same condition on an extension id column (calls, for the company call log). */
export function extensionInScope(scope: UserScope, accountId: string, extensionIdColumn: RawBuilder<unknown>): RawBuilder<SqlBool> | null {
  switch (scope.kind) {
    case 'account':
      return null;
    case 'sites':
      if (!scope.siteIds.length) return none;
      return sql<SqlBool>`${extensionIdColumn} in (select se.id from extensions se where se.account_id = ${accountId} and se.site_id in (${sql.join(scope.siteIds)}))`;
    case 'groups':
      return sql<SqlBool>`${extensionIdColumn} in (select gu.extension_id from users gu join user_group_members gm on gm.user_id = gu.id join user_groups g on g.id = gm.group_id where g.account_id = ${accountId} and gu.account_id = ${accountId} and g.manager_user_id = ${scope.managerId})`;
  }
}

/** Whether the caller administers this user of their account: another account's user, or one outside the scope, is not found. */
export async function userVisibleTo(db: Db, auth: AuthenticatedSession, userId: string): Promise<boolean> {
  const accountId = auth.account.id;
  const cond = userInScope(await userScopeOf(db, auth), accountId, sql.ref('users.id'));
  let q = db.selectFrom('users').select('users.id').where('users.account_id', '=', accountId).where('users.id', '=', userId);
  if (cond) q = q.where(cond);
  return (await q.executeTakeFirst()) !== undefined;
}

/** Whether an extension of this site (an unassigned one, say) is the caller's to administer: a group manager's scope holds no unassigned extension. */
export function siteInScope(scope: UserScope, siteId: string): boolean {
  if (scope.kind === 'account') return true;
  return scope.kind === 'sites' && scope.siteIds.includes(siteId);
}
