import { listParkLocations } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import { userExtensionChoices } from '#lib/server/phone-system/directory.ts';
import type { PageServerLoad } from './$types';

/** Phone System › Park Locations (PK-01…PK-03); hidden while the `park` area is unreleased. Changes go through /api/park-locations. */
export const load: PageServerLoad = async (event) => {
  await requireArea('park');
  const auth = caller(event);
  const db = (await getRuntime()).db;
  const [locations, users] = await Promise.all([listParkLocations(db, auth.account.id), userExtensionChoices(db, auth.account.id)]);
  return { canEdit: auth.permissions.has('phone_system.manage'), locations, users };
};
