import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { loadQueueManagers, QueueError, queueManagersInput, saveQueueManagers } from '@carillon/core/queues';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, notFound, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

const queueId = z.string().uuid();

/** CQ-02 step 2: the queue's managers (Full Access or Members Only) and whether their PIN is set. */
export const GET: RequestHandler = inArea('queues', async (event) => {
  const id = queueId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const managers = await loadQueueManagers(rt.db, caller(event).account.id, id.data);
  return managers ? json(managers) : notFound();
});

/** Replaces the managers (at least one with Full Access) and sets their PIN (required the first time); audited. */
export const PUT: RequestHandler = inArea('queues', async (event) => {
  const id = queueId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  // Another account's queue is not found, whatever the body says.
  if (!(await loadQueueManagers(rt.db, accountId, id.data))) return notFound();
  const body = await readJson(event.request, queueManagersInput);
  if (!body.ok) return body.response;
  try {
    return json(await saveQueueManagers(rt.db, actorOf(event), accountId, id.data, body.data));
  } catch (err) {
    if (err instanceof QueueError) {
      if (err.code === 'not_found') return notFound();
      // A missing PIN is a bad request (a field the admin must fill); a number that is not a user, a conflict with the account.
      return json({ error: err.code, detail: err.message }, { status: err.code === 'pin_required' ? 400 : 409 });
    }
    throw err;
  }
});
