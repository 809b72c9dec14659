import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { listGroups } from '#lib/server/user-groups/groups.ts';
import { listUsersPage, usersListQuery } from '#lib/server/users/list.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const auth = caller(event);
  const db = (await getRuntime()).db;
  // The users offered as members are those the admin administers (their scope), first 200 by name.
  const [groups, users] = await Promise.all([listGroups(db, auth), listUsersPage(db, auth, usersListQuery.parse({ limit: 200 }))]);
  return {
    groups,
    users: users.items.map((u) => ({ id: u.id, name: `${u.firstName} ${u.lastName}`.trim(), extension: u.fullExtension, roleName: u.roleName })),
    canManage: auth.permissions.has('users.manage'),
  };
};
