import { error } from '@sveltejs/kit';
import { timeZones } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid } from '#lib/server/api.ts';
import { getUserDetails } from '#lib/server/users/user-settings.ts';
import { usersListFacets } from '#lib/server/users/list.ts';
import { listTemplates } from '#lib/server/templates/templates.ts';
import { areaEnabled } from '#lib/server/unreleased.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const auth = caller(event);
  const db = (await getRuntime()).db;
  if (!isUuid(event.params.id)) error(404, 'not found');
  const user = await getUserDetails(db, auth.account.id, event.params.id);
  if (!user) error(404, 'not found');
  const [facets, numbers, templates] = await Promise.all([
    usersListFacets(db, auth.account.id),
    db.selectFrom('phone_numbers').select(['id', 'e164', 'nickname', 'type']).where('account_id', '=', auth.account.id).orderBy('e164').execute(),
    listTemplates(db, auth.account.id),
  ]);
  const enabled = await Promise.all([areaEnabled('voicemail'), areaEnabled('sms')]);
  return {
    user,
    roles: facets.roles,
    numbers,
    templates: templates.map((t) => ({ id: t.id, name: t.name, kind: t.kind })),
    timeZones: timeZones(),
    canManage: auth.permissions.has('users.manage'),
    // Unreleased (unreleased-features.ts): the link to the user's answering rules shows only where enabled.
    answeringRules: await areaEnabled('answering_rules'),
    // The unreleased areas whose notification e-mails the Notifications tab offers (UNRELEASED_NOTIFICATIONS).
    notificationAreas: (['voicemail', 'sms'] as const).filter((_, i) => enabled[i]),
  };
};
