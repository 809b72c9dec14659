import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import { supervisableQueues } from '#lib/server/queues/queue-supervisor.ts';
import type { PageServerLoad } from './$types';

/**
 * The call queues' supervisor view (issue 15): the queues the user administers (phone_system.view) or
 * manages; the page subscribes to them over socket.io (queues:supervise), which checks each again.
 */
export const load: PageServerLoad = async (event) => {
  await requireArea('queues');
  const me = caller(event);
  return { queues: await supervisableQueues(await getRuntime(), me) };
};
