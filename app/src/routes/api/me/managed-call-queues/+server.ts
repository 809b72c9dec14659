import { json } from '@sveltejs/kit';
import { managedQueues } from '@carillon/core/queues';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** The call queues the user manages (CQ-02 step 2), with their permission on each. */
export const GET: RequestHandler = inArea('queues', async (event) => {
  const rt = await getRuntime();
  const me = caller(event);
  return json({ queues: await managedQueues(rt.db, me.account.id, me.user.id) });
});
