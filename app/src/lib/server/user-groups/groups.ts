import { z } from 'zod';
import { permissionsOfRole, recordAudit, type AuditActor, type AuthenticatedSession } from '@carillon/core';
import { sql, type Db } from '@carillon/db';
import { PREDEFINED_ROLE_PERMISSIONS } from '@carillon/domain';
import { userInScope, userScopeOf } from '../users/scope.ts';

/**
 * User groups (seed 000 "Groupes d'utilisateurs"): flat, a user may belong to
 * several, and the manager must be a member holding at least the User Admin
 * role. A manager whose role is scoped to groups administers, and sees the
 * call log of, only the members of the groups they manage (users/scope.ts).
 */

export const groupCreate = z
  .object({
    name: z.string().trim().min(1).max(100),
    description: z.string().trim().max(500).nullable().optional(),
    memberIds: z.array(z.uuid()).max(1000).optional(),
    managerId: z.uuid().nullable().optional(),
  })
  .strict();
export const groupPatch = z
  .object({
    name: z.string().trim().min(1).max(100),
    description: z.string().trim().max(500).nullable(),
    managerId: z.uuid().nullable(),
  })
  .partial()
  .strict();
export const membersAdd = z.object({ userIds: z.array(z.uuid()).min(1).max(1000) }).strict();

export type GroupError =
  | { status: 400; error: 'invalid_body'; fields: Record<string, string> }
  | { status: 409; error: 'name_taken' | 'manager_is_member' }
  | { status: 409; error: 'manager_not_member' | 'manager_role_too_low'; message: string };

type Outcome<T> = { ok: true; value: T } | ({ ok: false } & GroupError);
const fail = (e: GroupError): { ok: false } & GroupError => ({ ok: false, ...e });

export interface GroupMember {
  id: string;
  firstName: string;
  lastName: string;
  extension: string;
  roleName: string;
}
export interface GroupView {
  id: string;
  name: string;
  description: string | null;
  managerId: string | null;
  managerName: string | null;
  members: GroupMember[];
}

/** An administrator of the whole account sees every group; a scoped one only the groups they manage. */
async function groupsQuery(db: Db, auth: AuthenticatedSession) {
  let q = db.selectFrom('user_groups').where('user_groups.account_id', '=', auth.account.id);
  if ((await userScopeOf(db, auth)).kind !== 'account') q = q.where('user_groups.manager_user_id', '=', auth.user.id);
  return q;
}

export async function listGroups(db: Db, auth: AuthenticatedSession, onlyId?: string): Promise<GroupView[]> {
  let q = (await groupsQuery(db, auth)).select(['id', 'name', 'description', 'manager_user_id']).orderBy(sql`lower(name)`);
  if (onlyId) q = q.where('id', '=', onlyId);
  const groups = await q.execute();
  if (!groups.length) return [];
  const members = await db
    .selectFrom('user_group_members')
    .innerJoin('users', 'users.id', 'user_group_members.user_id')
    .innerJoin('extensions', 'extensions.id', 'users.extension_id')
    .innerJoin('roles', 'roles.id', 'users.role_id')
    .select(['user_group_members.group_id', 'users.id', 'users.first_name as firstName', 'users.last_name as lastName', 'extensions.number as extension', 'roles.name as roleName'])
    .where('users.account_id', '=', auth.account.id)
    .where(
      'user_group_members.group_id',
      'in',
      groups.map((g) => g.id),
    )
    .orderBy(sql`lower(users.first_name)`)
    .orderBy(sql`lower(users.last_name)`)
    .execute();
  return groups.map((g) => {
    const mine = members.filter((m) => m.group_id === g.id).map(({ group_id: _g, ...m }) => m);
    const manager = mine.find((m) => m.id === g.manager_user_id);
    return {
      id: g.id,
      name: g.name,
      description: g.description,
      managerId: g.manager_user_id,
      managerName: manager ? `${manager.firstName} ${manager.lastName}`.trim() : null,
      members: mine,
    };
  });
}

export async function getGroup(db: Db, auth: AuthenticatedSession, id: string): Promise<GroupView | undefined> {
  return (await listGroups(db, auth, id))[0];
}

/** The users among these ids that the caller administers (their account, within their scope). */
async function administeredUsers(db: Db, auth: AuthenticatedSession, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const cond = userInScope(await userScopeOf(db, auth), auth.account.id, sql.ref('users.id'));
  let q = db.selectFrom('users').select('users.id').where('users.account_id', '=', auth.account.id).where('users.id', 'in', ids);
  if (cond) q = q.where(cond);
  return new Set((await q.execute()).map((r) => r.id));
}

/** Seed 000: "Le gestionnaire doit au minimum avoir le rôle Utilisateur administrateur" and be a member of the group. */
async function checkManager(db: Db, accountId: string, managerId: string, memberIds: ReadonlySet<string>): Promise<GroupError | null> {
  if (!memberIds.has(managerId)) return { status: 409, error: 'manager_not_member', message: 'The group manager must be a member of the group.' };
  const user = await db.selectFrom('users').select('role_id').where('account_id', '=', accountId).where('id', '=', managerId).executeTakeFirst();
  const held = user ? await permissionsOfRole(db, user.role_id) : new Set();
  if (!PREDEFINED_ROLE_PERMISSIONS.user_admin.every((p) => held.has(p)))
    return { status: 409, error: 'manager_role_too_low', message: 'The group manager must hold at least the User Admin role.' };
  return null;
}

async function nameTaken(db: Db, accountId: string, name: string, exceptId?: string): Promise<boolean> {
  let q = db.selectFrom('user_groups').select('id').where('account_id', '=', accountId).where(sql`lower(name)`, '=', name.toLowerCase());
  if (exceptId) q = q.where('id', '!=', exceptId);
  return (await q.executeTakeFirst()) !== undefined;
}

export async function createGroup(db: Db, auth: AuthenticatedSession, actor: AuditActor, input: z.output<typeof groupCreate>): Promise<Outcome<GroupView>> {
  const accountId = auth.account.id;
  const memberIds = [...new Set(input.memberIds ?? [])];
  const known = await administeredUsers(db, auth, memberIds);
  if (known.size !== memberIds.length) return fail({ status: 400, error: 'invalid_body', fields: { memberIds: 'not_found' } });
  if (input.managerId) {
    const refused = await checkManager(db, accountId, input.managerId, known);
    if (refused) return fail(refused);
  }
  if (await nameTaken(db, accountId, input.name)) return fail({ status: 409, error: 'name_taken' });
  const id = await db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('user_groups')
      .values({ account_id: accountId, name: input.name, description: input.description ?? null, manager_user_id: input.managerId ?? null })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (memberIds.length) await trx.insertInto('user_group_members').values(memberIds.map((user_id) => ({ group_id: row.id, user_id }))).execute();
    await recordAudit(trx, actor, {
      accountId,
      action: 'user_group.created',
      targetType: 'user_group',
      targetId: row.id,
      after: { name: input.name, description: input.description ?? null, managerId: input.managerId ?? null, memberIds },
    });
    return row.id;
  });
  return { ok: true, value: (await getGroup(db, auth, id))! };
}

export async function updateGroup(db: Db, auth: AuthenticatedSession, actor: AuditActor, group: GroupView, input: z.output<typeof groupPatch>): Promise<Outcome<GroupView>> {
  const accountId = auth.account.id;
  if (input.managerId) {
    const refused = await checkManager(db, accountId, input.managerId, new Set(group.members.map((m) => m.id)));
    if (refused) return fail(refused);
  }
  if (input.name && (await nameTaken(db, accountId, input.name, group.id))) return fail({ status: 409, error: 'name_taken' });
  const before = { name: group.name, description: group.description, managerId: group.managerId };
  const after = {
    name: input.name ?? group.name,
    description: input.description === undefined ? group.description : input.description,
    managerId: input.managerId === undefined ? group.managerId : input.managerId,
  };
  if (JSON.stringify(before) !== JSON.stringify(after)) {
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('user_groups')
        .set({ name: after.name, description: after.description, manager_user_id: after.managerId })
        .where('account_id', '=', accountId)
        .where('id', '=', group.id)
        .execute();
      await recordAudit(trx, actor, { accountId, action: 'user_group.updated', targetType: 'user_group', targetId: group.id, before, after });
    });
  }
  return { ok: true, value: (await getGroup(db, auth, group.id))! };
}

export async function deleteGroup(db: Db, auth: AuthenticatedSession, actor: AuditActor, group: GroupView): Promise<void> {
  // The members leave with the group and the manager loses what the group gave them (seed 000).
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('user_groups').where('account_id', '=', auth.account.id).where('id', '=', group.id).execute();
    await recordAudit(trx, actor, {
      accountId: auth.account.id,
      action: 'user_group.deleted',
      targetType: 'user_group',
      targetId: group.id,
      before: { name: group.name, managerId: group.managerId, memberIds: group.members.map((m) => m.id) },
    });
  });
}

export async function addMembers(db: Db, auth: AuthenticatedSession, actor: AuditActor, group: GroupView, userIds: string[]): Promise<Outcome<GroupView>> {
  const ids = [...new Set(userIds)];
  const known = await administeredUsers(db, auth, ids);
  if (known.size !== ids.length) return fail({ status: 400, error: 'invalid_body', fields: { userIds: 'not_found' } });
  const fresh = ids.filter((id) => !group.members.some((m) => m.id === id));
  if (fresh.length) {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('user_group_members').values(fresh.map((user_id) => ({ group_id: group.id, user_id }))).onConflict((oc) => oc.doNothing()).execute();
      for (const userId of fresh)
        await recordAudit(trx, actor, { accountId: auth.account.id, action: 'user_group.member_added', targetType: 'user_group', targetId: group.id, after: { userId, group: group.name } });
    });
  }
  return { ok: true, value: (await getGroup(db, auth, group.id))! };
}

export async function removeMember(db: Db, auth: AuthenticatedSession, actor: AuditActor, group: GroupView, userId: string): Promise<Outcome<GroupView> | null> {
  if (!group.members.some((m) => m.id === userId)) return null;
  // The manager must stay a member: choose another manager (or none) first.
  if (group.managerId === userId) return fail({ status: 409, error: 'manager_is_member' });
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('user_group_members').where('group_id', '=', group.id).where('user_id', '=', userId).execute();
    await recordAudit(trx, actor, { accountId: auth.account.id, action: 'user_group.member_removed', targetType: 'user_group', targetId: group.id, before: { userId, group: group.name } });
  });
  return { ok: true, value: (await getGroup(db, auth, group.id))! };
}

export const groupErrorBody = (e: GroupError) => {
  const { status: _status, ok: _ok, ...body } = e as GroupError & { ok?: boolean };
  return body;
};
