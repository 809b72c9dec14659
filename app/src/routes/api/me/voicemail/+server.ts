import { json } from '@sveltejs/kit';
import { listVoicemail, voicemailMailboxesOf, voicemailUnreadCount } from '@carillon/core/voicemail';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readQuery } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { readerOf, voicemailListQuery } from '#lib/server/voicemail/voicemail.ts';
import type { RequestHandler } from './$types';

/** The mailboxes the user reads (own and shared), the messages of one folder (newest first, with transcripts) and the unread count. */
export const GET: RequestHandler = inArea('voicemail', async (event) => {
  const query = readQuery(event.url, voicemailListQuery);
  if (!query.ok) return query.response;
  const db = (await getRuntime()).db;
  const reader = readerOf(caller(event));
  const [mailboxes, messages, unread] = await Promise.all([
    voicemailMailboxesOf(db, reader),
    listVoicemail(db, reader, { folder: query.data.folder, ...(query.data.mailbox ? { mailboxExtensionId: query.data.mailbox } : {}) }),
    voicemailUnreadCount(db, reader),
  ]);
  return json({ mailboxes, messages, unread });
});
