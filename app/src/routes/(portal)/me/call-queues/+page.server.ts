import { memberQueues } from '@carillon/core/queues';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import { supervisableQueues } from '#lib/server/queues/queue-supervisor.ts';
import type { PageServerLoad } from './$types';

/** My Extension › Call Queues: the agent's queues and its log-in to each; changed through PUT /api/me/call-queues. */
export const load: PageServerLoad = async (event) => {
  await requireArea('queues');
  const me = caller(event);
  const rt = await getRuntime();
  return {
    queues: me.user.extension_id ? await memberQueues(rt.db, me.account.id, me.user.extension_id) : [],
    // The supervisor view is linked for those who administer or manage a queue.
    supervises: (await supervisableQueues(rt, me)).length > 0,
  };
};
