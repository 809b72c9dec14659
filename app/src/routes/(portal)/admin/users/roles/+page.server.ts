import { PERMISSIONS } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { listRoles } from '#lib/server/roles/roles.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const auth = caller(event);
  const db = (await getRuntime()).db;
  const [roles, sites] = await Promise.all([
    listRoles(db, auth.account.id),
    db.selectFrom('sites').select(['id', 'name']).where('account_id', '=', auth.account.id).orderBy('is_main', 'desc').orderBy('name').execute(),
  ]);
  // The checkboxes offer only what the admin holds: nobody grants a permission they lack.
  return { roles, sites, permissions: PERMISSIONS.filter((p) => auth.permissions.has(p)) };
};
