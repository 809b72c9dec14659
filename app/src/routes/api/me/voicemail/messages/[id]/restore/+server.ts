import { json } from '@sveltejs/kit';
import { restoreVoicemail, voicemailUnreadCount } from '@carillon/core/voicemail';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { invalidMessageId, publishVoicemailChange, readerOf } from '#lib/server/voicemail/voicemail.ts';
import type { RequestHandler } from './$types';

/** Takes a message out of the trash; a message that is not in it (or not the user's) is not found. */
export const POST: RequestHandler = inArea('voicemail', async (event) => {
  if (!isUuid(event.params.id)) return invalidMessageId();
  const rt = await getRuntime();
  const auth = caller(event);
  const reader = readerOf(auth);
  const change = await restoreVoicemail(rt.db, reader, event.params.id);
  if (!change) return notFound();
  await publishVoicemailChange(rt, auth.account.id, change);
  return json({ restored: true, unread: await voicemailUnreadCount(rt.db, reader) });
});
