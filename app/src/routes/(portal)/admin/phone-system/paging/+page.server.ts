import { listPagingGroups } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import type { PageServerLoad } from './$types';

/** Phone System › Paging Only (PG-02, PG-03 list); hidden while the `paging` area is unreleased. Changes go through /api/paging-groups. */
export const load: PageServerLoad = async (event) => {
  await requireArea('paging');
  const auth = caller(event);
  const groups = await listPagingGroups((await getRuntime()).db, auth.account.id);
  return {
    canEdit: auth.permissions.has('phone_system.manage'),
    groups: groups.map((g) => ({ id: g.id, number: g.number, name: g.name ?? g.number, enabled: g.enabled, receivers: g.receiverDeviceIds.length, pagers: g.pagerExtensionIds.length })),
  };
};
