import { z } from 'zod';
import { announceConfigChange, granterOf, recordAudit, refuseGrant, type AuditActor, type AuthenticatedSession, type GrantRefusal } from '@carillon/core';
import { ROLE_SCOPES, type Db, type RoleScope } from '@carillon/db';
import { isPredefinedRoleKey, permissionsOfPredefinedRole, PERMISSIONS, PREDEFINED_ROLE_KEYS, type Permission } from '@carillon/domain';
import { userScopeOf } from '../users/scope.ts';

/**
 * Roles (seed 000 "Rôles et autorisations"): the seven predefined roles, which
 * cannot be changed, and the account's custom roles, each made from a base
 * role whose permissions it copies and then edits. A custom role may be
 * limited to sites (its holders administer only those sites' users) or to the
 * groups its holders manage. Nobody grants a permission they do not hold.
 */

export interface RoleView {
  id: string;
  key: string | null;
  name: string;
  description: string | null;
  type: 'predefined' | 'custom';
  baseRoleId: string | null;
  scope: RoleScope;
  siteIds: string[];
  permissions: Permission[];
  userCount: number;
  isDefault: boolean;
}

const permissionList = z
  .array(z.enum(PERMISSIONS))
  .max(PERMISSIONS.length * 2)
  .transform((ps) => PERMISSIONS.filter((p) => ps.includes(p)));

const roleFields = {
  name: z.string().trim().min(1).max(60),
  description: z.string().trim().max(200).nullable(),
  permissions: permissionList,
  scope: z.enum(ROLE_SCOPES),
  siteIds: z.array(z.uuid()).max(500),
};

export const roleCreate = z
  .object({ baseRoleId: z.uuid(), ...roleFields, isDefault: z.boolean() })
  .partial({ description: true, permissions: true, scope: true, siteIds: true, isDefault: true })
  .strict();
export const rolePatch = z
  .object({ ...roleFields, isDefault: z.literal(true) })
  .partial()
  .strict();

export type RoleError =
  | { status: 400; error: 'invalid_body'; fields: Record<string, string> }
  | { status: 403; error: 'permission_not_held'; permissions: Permission[] }
  | { status: 403; error: 'scope_too_narrow' }
  | { status: 404; error: 'not_found' }
  | { status: 409; error: 'predefined_role' | 'name_taken' | 'role_is_default' }
  | { status: 409; error: 'role_in_use'; userCount: number };

type Outcome<T> = { ok: true; value: T } | ({ ok: false } & RoleError);
const fail = (e: RoleError): { ok: false } & RoleError => ({ ok: false, ...e });

function visibleRoles(db: Db, accountId: string) {
  return db.selectFrom('roles').where((eb) => eb.or([eb('roles.account_id', 'is', null), eb('roles.account_id', '=', accountId)]));
}

export async function listRoles(db: Db, accountId: string): Promise<RoleView[]> {
  const [rows, perms, sites, counts, account] = await Promise.all([
    visibleRoles(db, accountId).select(['id', 'key', 'name', 'description', 'base_role_id', 'scope', 'created_at']).execute(),
    db.selectFrom('role_permissions').innerJoin('roles', 'roles.id', 'role_permissions.role_id').select(['role_id', 'permission']).where('roles.account_id', '=', accountId).execute(),
    db.selectFrom('role_sites').innerJoin('roles', 'roles.id', 'role_sites.role_id').select(['role_id', 'site_id']).where('roles.account_id', '=', accountId).execute(),
    db.selectFrom('users').select(['role_id', (eb) => eb.fn.countAll<string>().as('n')]).where('account_id', '=', accountId).groupBy('role_id').execute(),
    db.selectFrom('accounts').select('default_role_id').where('id', '=', accountId).executeTakeFirstOrThrow(),
  ]);
  const defaultId = account.default_role_id ?? rows.find((r) => r.key === 'standard_international')?.id;
  const order = (r: (typeof rows)[number]) => (isPredefinedRoleKey(r.key) ? PREDEFINED_ROLE_KEYS.indexOf(r.key) : 100);
  rows.sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name));
  const views: RoleView[] = [];
  for (const r of rows) {
    const permissions = isPredefinedRoleKey(r.key) ? [...permissionsOfPredefinedRole(r.key)] : perms.filter((p) => p.role_id === r.id).map((p) => p.permission as Permission);
    views.push({
      id: r.id,
      key: r.key,
      name: r.name,
      description: r.description,
      type: r.key ? 'predefined' : 'custom',
      baseRoleId: r.base_role_id,
      scope: r.scope,
      siteIds: sites.filter((s) => s.role_id === r.id).map((s) => s.site_id),
      permissions: PERMISSIONS.filter((p) => permissions.includes(p)),
      userCount: Number(counts.find((c) => c.role_id === r.id)?.n ?? 0),
      isDefault: r.id === defaultId,
    });
  }
  return views;
}

export async function getRole(db: Db, accountId: string, id: string): Promise<RoleView | undefined> {
  return (await listRoles(db, accountId)).find((r) => r.id === id);
}

/** Only an administrator of the whole account shapes roles; and nobody hands out a permission they lack. */
async function mayGrant(db: Db, auth: AuthenticatedSession, permissions: readonly Permission[]): Promise<RoleError | null> {
  if ((await userScopeOf(db, auth)).kind !== 'account') return { status: 403, error: 'scope_too_narrow' };
  return roleError(await refuseGrant(db, granterOf(auth), { permissions, scope: 'account', siteIds: [] }));
}

async function checkSites(db: Db, accountId: string, scope: RoleScope, siteIds: string[]): Promise<RoleError | null> {
  if (scope !== 'sites') return siteIds.length ? { status: 400, error: 'invalid_body', fields: { siteIds: 'only with the sites scope' } } : null;
  if (!siteIds.length) return { status: 400, error: 'invalid_body', fields: { siteIds: 'choose at least one site' } };
  const found = await db.selectFrom('sites').select('id').where('account_id', '=', accountId).where('id', 'in', siteIds).execute();
  return found.length === new Set(siteIds).size ? null : { status: 400, error: 'invalid_body', fields: { siteIds: 'not_found' } };
}

async function nameTaken(db: Db, accountId: string, name: string, exceptId?: string): Promise<boolean> {
  let q = visibleRoles(db, accountId).select('id').where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase()));
  if (exceptId) q = q.where('id', '!=', exceptId);
  return (await q.executeTakeFirst()) !== undefined;
}

export async function createRole(db: Db, auth: AuthenticatedSession, actor: AuditActor, input: z.output<typeof roleCreate>): Promise<Outcome<RoleView>> {
  const accountId = auth.account.id;
  const base = await getRole(db, accountId, input.baseRoleId);
  if (!base) return fail({ status: 400, error: 'invalid_body', fields: { baseRoleId: 'not_found' } });
  const permissions = input.permissions ?? base.permissions;
  const scope = input.scope ?? 'account';
  const siteIds = [...new Set(input.siteIds ?? [])];
  const refused = (await mayGrant(db, auth, permissions)) ?? (await checkSites(db, accountId, scope, siteIds));
  if (refused) return fail(refused);
  if (await nameTaken(db, accountId, input.name)) return fail({ status: 409, error: 'name_taken' });
  const id = await db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('roles')
      .values({ account_id: accountId, name: input.name, description: input.description ?? null, base_role_id: base.id, scope })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (permissions.length) await trx.insertInto('role_permissions').values(permissions.map((permission) => ({ role_id: row.id, permission }))).execute();
    if (siteIds.length) await trx.insertInto('role_sites').values(siteIds.map((site_id) => ({ role_id: row.id, site_id }))).execute();
    if (input.isDefault) await trx.updateTable('accounts').set({ default_role_id: row.id }).where('id', '=', accountId).execute();
    await recordAudit(trx, actor, {
      accountId,
      action: 'role.created',
      targetType: 'role',
      targetId: row.id,
      after: { name: input.name, baseRole: base.name, permissions, scope, siteIds, isDefault: input.isDefault ?? false },
    });
    return row.id;
  });
  return { ok: true, value: (await getRole(db, accountId, id))! };
}

export async function updateRole(db: Db, auth: AuthenticatedSession, actor: AuditActor, role: RoleView, input: z.output<typeof rolePatch>): Promise<Outcome<RoleView>> {
  const accountId = auth.account.id;
  const { isDefault, ...fields } = input;
  // Predefined roles cannot be modified (seed 000); they can only be made the default.
  if (role.type === 'predefined' && Object.keys(fields).length) return fail({ status: 409, error: 'predefined_role' });
  const permissions = fields.permissions ?? role.permissions;
  const scope = fields.scope ?? role.scope;
  const siteIds = fields.siteIds ? [...new Set(fields.siteIds)] : scope === 'sites' ? role.siteIds : [];
  const refused = (await mayGrant(db, auth, [...(fields.permissions ?? []), ...(isDefault ? role.permissions : [])])) ?? (role.type === 'custom' ? await checkSites(db, accountId, scope, siteIds) : null);
  if (refused) return fail(refused);
  if (fields.name && (await nameTaken(db, accountId, fields.name, role.id))) return fail({ status: 409, error: 'name_taken' });
  await db.transaction().execute(async (trx) => {
    if (Object.keys(fields).length) {
      await trx
        .updateTable('roles')
        .set({ name: fields.name ?? role.name, description: fields.description === undefined ? role.description : fields.description, scope })
        .where('account_id', '=', accountId)
        .where('id', '=', role.id)
        .execute();
      await trx.deleteFrom('role_permissions').where('role_id', '=', role.id).execute();
      if (permissions.length) await trx.insertInto('role_permissions').values(permissions.map((permission) => ({ role_id: role.id, permission }))).execute();
      await trx.deleteFrom('role_sites').where('role_id', '=', role.id).execute();
      if (siteIds.length) await trx.insertInto('role_sites').values(siteIds.map((site_id) => ({ role_id: role.id, site_id }))).execute();
      await recordAudit(trx, actor, {
        accountId,
        action: 'role.updated',
        targetType: 'role',
        targetId: role.id,
        before: { name: role.name, description: role.description, permissions: role.permissions, scope: role.scope, siteIds: role.siteIds },
        after: { name: fields.name ?? role.name, description: fields.description === undefined ? role.description : fields.description, permissions, scope, siteIds },
      });
    }
    if (isDefault && !role.isDefault) {
      const before = await trx.selectFrom('accounts').select('default_role_id').where('id', '=', accountId).executeTakeFirstOrThrow();
      await trx.updateTable('accounts').set({ default_role_id: role.id }).where('id', '=', accountId).execute();
      await recordAudit(trx, actor, { accountId, action: 'role.default_set', targetType: 'role', targetId: role.id, before: { defaultRoleId: before.default_role_id }, after: { defaultRoleId: role.id, name: role.name } });
    }
  });
  // A role's permissions decide its users' outbound calling (routing, cached by media-server).
  if (fields.permissions) await announceConfigChange(accountId, 'users');
  return { ok: true, value: (await getRole(db, accountId, role.id))! };
}

export async function deleteRole(db: Db, auth: AuthenticatedSession, actor: AuditActor, role: RoleView): Promise<Outcome<null>> {
  const accountId = auth.account.id;
  if (role.type === 'predefined') return fail({ status: 409, error: 'predefined_role' });
  const refused = await mayGrant(db, auth, []);
  if (refused) return fail(refused);
  return db.transaction().execute(async (trx) => {
    // Locks the account row, so that no user is given the role between the count and the delete.
    const account = await trx.selectFrom('accounts').select('default_role_id').where('id', '=', accountId).forUpdate().executeTakeFirstOrThrow();
    const held = await trx.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('n')).where('account_id', '=', accountId).where('role_id', '=', role.id).executeTakeFirstOrThrow();
    if (Number(held.n) > 0) return fail({ status: 409, error: 'role_in_use', userCount: Number(held.n) });
    if (account.default_role_id === role.id) return fail({ status: 409, error: 'role_is_default' });
    await trx.deleteFrom('roles').where('account_id', '=', accountId).where('id', '=', role.id).execute();
    await recordAudit(trx, actor, { accountId, action: 'role.deleted', targetType: 'role', targetId: role.id, before: { name: role.name, permissions: role.permissions, scope: role.scope } });
    return { ok: true as const, value: null };
  });
}

/** Whether the caller may give this role to users: they hold all its permissions, and its scope is within theirs. */
export async function mayAssign(db: Db, auth: AuthenticatedSession, role: RoleView): Promise<RoleError | null> {
  return roleError(await refuseGrant(db, granterOf(auth), { permissions: role.permissions, scope: role.scope, siteIds: role.siteIds }));
}

/** Core's refusal of a grant as this API's error. */
export function roleError(r: GrantRefusal | null): RoleError | null {
  if (!r) return null;
  if (r.reason === 'role_not_found') return { status: 404, error: 'not_found' };
  return r.reason === 'permission_not_held' ? { status: 403, error: 'permission_not_held', permissions: r.permissions } : { status: 403, error: 'scope_too_narrow' };
}

export const roleErrorBody = (e: RoleError) => {
  const { status: _status, ok: _ok, ...body } = e as RoleError & { ok?: boolean };
  return body;
};
