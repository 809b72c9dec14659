import { json } from '@sveltejs/kit';
import { memberAcceptingInput, memberQueues, setQueueMemberAccepting } from '@carillon/core/queues';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** The call queues the user is a member of, with whether they accept each one's calls (logged in). */
export const GET: RequestHandler = inArea('queues', async (event) => {
  const rt = await getRuntime();
  const me = caller(event);
  return json({ queues: me.user.extension_id ? await memberQueues(rt.db, me.account.id, me.user.extension_id) : [] });
});

/** The agent logs in or out of one of their queues, or of all of them (queueId null); audited. */
export const PUT: RequestHandler = inArea('queues', async (event) => {
  const body = await readJson(event.request, memberAcceptingInput);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  const me = caller(event);
  const extensionId = me.user.extension_id;
  if (!extensionId) return json({ error: 'not_found' }, { status: 404 });
  const mine = await memberQueues(rt.db, me.account.id, extensionId);
  // A queue the user does not belong to (or another account's) is not found.
  if (body.data.queueId && !mine.some((q) => q.queueExtensionId === body.data.queueId)) return json({ error: 'not_found' }, { status: 404 });
  await setQueueMemberAccepting(rt.db, actorOf(event), me.account.id, extensionId, body.data.queueId, body.data.accepting);
  return json({ queues: await memberQueues(rt.db, me.account.id, extensionId) });
});
