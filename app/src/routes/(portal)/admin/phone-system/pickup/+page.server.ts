import { listPickupGroups } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import { userExtensionChoices } from '#lib/server/phone-system/directory.ts';
import { listSites } from '#lib/server/sites/sites.ts';
import type { PageServerLoad } from './$types';

/** Phone System › Call Pickup (PU-01, PU-02); hidden while the `park` area is unreleased. Changes go through /api/pickup-groups. */
export const load: PageServerLoad = async (event) => {
  await requireArea('park');
  const auth = caller(event);
  const db = (await getRuntime()).db;
  const [groups, users, sites] = await Promise.all([listPickupGroups(db, auth.account.id), userExtensionChoices(db, auth.account.id), listSites(db, auth.account.id)]);
  return { canEdit: auth.permissions.has('phone_system.manage'), groups, users, sites: sites.map((s) => ({ id: s.id, name: s.name })) };
};
