import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { loadCallQueue, managedQueueInput, managedQueues, QueueError, saveManagedQueue } from '@carillon/core/queues';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, notFound, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

const queueId = z.string().uuid();

/** The manager's own permission on the queue: only a queue the user manages is found. */
async function managed(event: Parameters<RequestHandler>[0], id: string) {
  const rt = await getRuntime();
  const me = caller(event);
  const mine = await managedQueues(rt.db, me.account.id, me.user.id);
  return { rt, me, queue: mine.find((q) => q.queueExtensionId === id) ?? null };
}

/** A queue the user manages: settings and members, with the user's permission on it. */
export const GET: RequestHandler = inArea('queues', async (event) => {
  const id = queueId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const { rt, me, queue } = await managed(event, id.data);
  if (!queue) return notFound();
  const view = await loadCallQueue(rt.db, me.account.id, id.data);
  return view ? json({ queue: view, permission: queue.permission }) : notFound();
});

/** A manager saves the queue: members always; settings only with Full Access (403 `members_only` otherwise); audited. */
export const PUT: RequestHandler = inArea('queues', async (event) => {
  const id = queueId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const { rt, me, queue } = await managed(event, id.data);
  if (!queue) return notFound();
  const body = await readJson(event.request, managedQueueInput);
  if (!body.ok) return body.response;
  try {
    return json({ queue: await saveManagedQueue(rt.db, actorOf(event), me.account.id, me.user.id, id.data, body.data) });
  } catch (err) {
    if (err instanceof QueueError) {
      if (err.code === 'not_found') return notFound();
      if (err.code === 'members_only') return json({ error: 'members_only', detail: 'a Members Only manager may change the members only' }, { status: 403 });
      return json({ error: err.code, detail: err.message }, { status: 409 });
    }
    throw err;
  }
});
