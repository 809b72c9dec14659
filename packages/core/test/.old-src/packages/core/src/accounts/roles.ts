import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import {
  DEFAULT_ROLE_KEY,
  isPredefinedRoleKey,
  permissionsOfPredefinedRole,
  type Permission,
  type PredefinedRoleKey,
} from '@carillon/domain';

export async function predefinedRoleId(db: Kysely<Database>, key: PredefinedRoleKey): Promise<string> {
  const row = await db.selectFrom('roles').select('id').where('key', '=', key).executeTakeFirstOrThrow();
  return row.id;
}

/** The role a new user of this account gets: the account's default, else Standard (International). */
export async function defaultRoleIdFor(db: Kysely<Database>, accountId: string): Promise<string> {
  const acct = await db.selectFrom('accounts').select('default_role_id').where('id', '=', accountId).executeTakeFirst();
  return acct?.default_role_id ?? predefinedRoleId(db, DEFAULT_ROLE_KEY);
}

export async function permissionsOfRole(db: Kysely<Database>, roleId: string): Promise<Set<Permission>> {
  const role = await db.selectFrom('roles').select(['key']).where('id', '=', roleId).executeTakeFirst();
  if (!role) return new Set();
  if (isPredefinedRoleKey(role.key)) return new Set(permissionsOfPredefinedRole(role.key));
  const rows = await db.selectFrom('role_permissions').select('permission').where('role_id', '=', roleId).execute();
  return new Set(rows.map((r) => r.permission as Permission));
}
