import { findVoicemail } from '@carillon/core/voicemail';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound, readQuery } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { invalidMessageId, readerOf, voicemailAudioQuery, voicemailAudioResponse } from '#lib/server/voicemail/voicemail.ts';
import type { RequestHandler } from './$types';

/**
 * A message's audio: the WAV inline with byte ranges (the player seeks), or
 * `?download=wav|mp3` as a file. Playing does not mark it read: the page does,
 * once, when the player starts (a seek is many requests).
 */
export const GET: RequestHandler = inArea('voicemail', async (event) => {
  if (!isUuid(event.params.id)) return invalidMessageId();
  const query = readQuery(event.url, voicemailAudioQuery);
  if (!query.ok) return query.response;
  const rt = await getRuntime();
  const message = await findVoicemail(rt.db, readerOf(caller(event)), event.params.id);
  if (!message) return notFound();
  return voicemailAudioResponse(rt, event.request, message, query.data.download);
});
