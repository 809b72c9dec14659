import { memberQueues } from '@carillon/core/queues';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import type { PageServerLoad } from './$types';

/** My Extension › Call Queues: the agent's queues and its log-in to each; changed through PUT /api/me/call-queues. */
export const load: PageServerLoad = async (event) => {
  await requireArea('queues');
  const me = caller(event);
  return { queues: me.user.extension_id ? await memberQueues((await getRuntime()).db, me.account.id, me.user.extension_id) : [] };
};
