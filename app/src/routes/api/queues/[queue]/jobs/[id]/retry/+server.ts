import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, notFound } from '#lib/server/api.ts';
import { retryJob } from '#lib/server/queue-health.ts';
import type { RequestHandler } from './$types';

export const POST: RequestHandler = async (event) => {
  const { queue, id } = event.params;
  if (!/^[a-z-]{1,40}$/.test(queue) || !/^[A-Za-z0-9_-]{1,100}$/.test(id)) return notFound();
  const outcome = await retryJob(await getRuntime(), caller(event), actorOf(event), queue, id);
  if (outcome === 'not_found') return notFound();
  if (outcome === 'not_failed') return json({ error: 'not_failed' }, { status: 409 });
  return json({ ok: true, queue, id });
};
