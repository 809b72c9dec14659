import { error } from '@sveltejs/kit';
import { listDevices, loadSharedLine } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import { listSites } from '#lib/server/sites/sites.ts';
import type { PageServerLoad } from './$types';

/** One shared line (SL-02 step 2, SL-03…SL-09): its details, devices in order and settings. Saved through /api/shared-lines/[id]. */
export const load: PageServerLoad = async (event) => {
  await requireArea('shared_lines');
  if (!isUuid(event.params.id)) error(404, 'Not found');
  const auth = caller(event);
  const db = (await getRuntime()).db;
  const [line, devices, sites] = await Promise.all([loadSharedLine(db, auth.account.id, event.params.id), listDevices(db, auth.account.id), listSites(db, auth.account.id)]);
  if (!line) error(404, 'Not found');
  return {
    canEdit: auth.permissions.has('phone_system.manage'),
    line,
    // A device rings through its extension's registrations: only devices with one can be on a line.
    devices: devices.filter((dv) => dv.extensionNumber).map((dv) => ({ id: dv.id, name: dv.name, type: dv.type, extensionNumber: dv.extensionNumber ?? '' })),
    sites: sites.map((s) => ({ id: s.id, name: s.name })),
  };
};
