import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { callQueueInput, loadCallQueue, QueueError, saveCallQueue } from '@carillon/core/queues';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

const queueId = z.string().uuid();
const notFound = () => json({ error: 'not_found' }, { status: 404 });

/** A call queue of the account: settings (CQ-04, CQ-05, wait settings) and members in order. */
export const GET: RequestHandler = inArea('queues', async (event) => {
  const id = queueId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const queue = await loadCallQueue(rt.db, caller(event).account.id, id.data);
  return queue ? json({ queue }) : notFound();
});

/** Saves a queue's settings and members (the list is the order); members must be users of the account. */
export const PUT: RequestHandler = inArea('queues', async (event) => {
  const id = queueId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  // Another account's queue is not found, whatever the body says.
  if (!(await loadCallQueue(rt.db, accountId, id.data))) return notFound();
  const body = await readJson(event.request, callQueueInput);
  if (!body.ok) return body.response;
  try {
    return json({ queue: await saveCallQueue(rt.db, actorOf(event), accountId, id.data, body.data) });
  } catch (err) {
    if (err instanceof QueueError) return err.code === 'not_found' ? notFound() : json({ error: err.code, detail: err.message }, { status: 409 });
    throw err;
  }
});
