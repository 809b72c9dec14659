import { error } from '@sveltejs/kit';
import { listDevices, loadPagingGroup } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import { userExtensionChoices } from '#lib/server/phone-system/directory.ts';
import type { PageServerLoad } from './$types';

/** One paging group (PG-03): its details, the devices that receive the page, the users allowed to page. Saved through /api/paging-groups/[id]. */
export const load: PageServerLoad = async (event) => {
  await requireArea('paging');
  if (!isUuid(event.params.id)) error(404, 'Not found');
  const auth = caller(event);
  const db = (await getRuntime()).db;
  const [group, devices, users] = await Promise.all([loadPagingGroup(db, auth.account.id, event.params.id), listDevices(db, auth.account.id), userExtensionChoices(db, auth.account.id)]);
  if (!group) error(404, 'Not found');
  return {
    canEdit: auth.permissions.has('phone_system.manage'),
    group,
    devices: devices.map((dv) => ({ id: dv.id, name: dv.name, type: dv.type, extensionNumber: dv.extensionNumber })),
    users,
  };
};
