import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { loadQueueVoicemail, QueueError, queueVoicemailInput, saveQueueVoicemail } from '@carillon/core/queues';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, notFound, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

const queueId = z.string().uuid();

/** CQ-09, CQ-10: the queue's message recipient (null: the queue itself) and voicemail-to-text. */
export const GET: RequestHandler = inArea('queues', async (event) => {
  const id = queueId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const voicemail = await loadQueueVoicemail(rt.db, caller(event).account.id, id.data);
  return voicemail ? json(voicemail) : notFound();
});

/** Saves the message recipient (a user's extension, or the queue) and voicemail-to-text; audited. */
export const PUT: RequestHandler = inArea('queues', async (event) => {
  const id = queueId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  if (!(await loadQueueVoicemail(rt.db, accountId, id.data))) return notFound();
  const body = await readJson(event.request, queueVoicemailInput);
  if (!body.ok) return body.response;
  try {
    return json(await saveQueueVoicemail(rt.db, actorOf(event), accountId, id.data, body.data));
  } catch (err) {
    if (err instanceof QueueError) return err.code === 'not_found' ? notFound() : json({ error: err.code, detail: err.message }, { status: 409 });
    throw err;
  }
});
