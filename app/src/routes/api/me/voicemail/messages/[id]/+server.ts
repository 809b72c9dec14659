import { json } from '@sveltejs/kit';
import { findVoicemail, markVoicemail, trashVoicemail, voicemailUnreadCount } from '@carillon/core/voicemail';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { invalidMessageId, publishVoicemailChange, readerOf, scheduleTrashPurge, voicemailMarkSchema } from '#lib/server/voicemail/voicemail.ts';
import type { RequestHandler } from './$types';

/** Marks a message read (heard) or unread (new); answers the user's unread count after it. Another user's or account's message is not found. */
export const PATCH: RequestHandler = inArea('voicemail', async (event) => {
  if (!isUuid(event.params.id)) return invalidMessageId();
  const rt = await getRuntime();
  const auth = caller(event);
  const reader = readerOf(auth);
  // Found first: another account's message is a 404 whatever the body says.
  if (!(await findVoicemail(rt.db, reader, event.params.id))) return notFound();
  const body = await readJson(event.request, voicemailMarkSchema);
  if (!body.ok) return body.response;
  const change = await markVoicemail(rt.db, reader, event.params.id, body.data.status);
  if (!change) return notFound();
  await publishVoicemailChange(rt, auth.account.id, change);
  return json({ status: body.data.status, unread: await voicemailUnreadCount(rt.db, reader) });
});

/** Moves a message to the trash, where it stays 30 days (restore brings it back). */
export const DELETE: RequestHandler = inArea('voicemail', async (event) => {
  if (!isUuid(event.params.id)) return invalidMessageId();
  const rt = await getRuntime();
  const auth = caller(event);
  const change = await trashVoicemail(rt.db, readerOf(auth), event.params.id);
  if (!change) return notFound();
  await publishVoicemailChange(rt, auth.account.id, change);
  await scheduleTrashPurge(rt);
  return new Response(null, { status: 204 });
});
