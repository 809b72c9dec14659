import { listCallQueues } from '@carillon/core/queues';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import type { PageServerLoad } from './$types';

/** Phone System › Call Queues (CQ-01, CQ-02 step 1); hidden while the `queues` area is unreleased. Changes go through /api/call-queues. */
export const load: PageServerLoad = async (event) => {
  await requireArea('queues');
  const auth = caller(event);
  const queues = await listCallQueues((await getRuntime()).db, auth.account.id);
  return {
    canEdit: auth.permissions.has('phone_system.manage'),
    queues: queues.map((q) => ({ id: q.extensionId, number: q.number, name: q.name ?? q.number, members: q.members.length, distribution: q.settings.distribution })),
  };
};
