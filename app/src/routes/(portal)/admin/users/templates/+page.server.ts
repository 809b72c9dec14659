import { timeZones } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { listTemplates } from '#lib/server/templates/templates.ts';
import { usersListFacets } from '#lib/server/users/list.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const auth = caller(event);
  const db = (await getRuntime()).db;
  const [templates, facets, numbers] = await Promise.all([
    listTemplates(db, auth.account.id),
    usersListFacets(db, auth.account.id),
    db.selectFrom('phone_numbers').select(['id', 'e164', 'nickname']).where('account_id', '=', auth.account.id).orderBy('e164').execute(),
  ]);
  return { templates, roles: facets.roles, numbers, timeZones: timeZones(), canManage: auth.permissions.has('users.manage') };
};
