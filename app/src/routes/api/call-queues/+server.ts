import { json } from '@sveltejs/kit';
import { createCallQueue, listCallQueues, newCallQueueInput, QueueError } from '@carillon/core/queues';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** CQ-01: the account's call queues, with their settings and members. (`/api/queues` is the job queues' page.) */
export const GET: RequestHandler = inArea('queues', async (event) => {
  const rt = await getRuntime();
  return json({ queues: await listCallQueues(rt.db, caller(event).account.id) });
});

/** CQ-02 step 1: a new queue (a new extension) with the default settings, or those of another queue of the account (`copyFrom`). */
export const POST: RequestHandler = inArea('queues', async (event) => {
  const body = await readJson(event.request, newCallQueueInput);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  try {
    return json({ queue: await createCallQueue(rt.db, actorOf(event), caller(event).account.id, body.data) }, { status: 201 });
  } catch (err) {
    // A queue to copy that is not one of the account's is not found; a number taken or too many queues, a conflict.
    if (err instanceof QueueError) return json({ error: err.code }, { status: err.code === 'not_found' ? 404 : 409 });
    throw err;
  }
});
