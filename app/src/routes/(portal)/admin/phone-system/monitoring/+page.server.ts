import { listMonitoringGroups } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import { userExtensionChoices } from '#lib/server/phone-system/directory.ts';
import type { PageServerLoad } from './$types';

/** Phone System › Call Monitoring (MON-02); hidden while the `monitoring` area is unreleased. Changes go through /api/monitoring-groups. */
export const load: PageServerLoad = async (event) => {
  await requireArea('monitoring');
  const auth = caller(event);
  const db = (await getRuntime()).db;
  const [groups, users] = await Promise.all([listMonitoringGroups(db, auth.account.id), userExtensionChoices(db, auth.account.id)]);
  return { canEdit: auth.permissions.has('phone_system.manage'), groups, users };
};
