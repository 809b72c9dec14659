import { json } from '@sveltejs/kit';
import { voicemailUnreadCount } from '@carillon/core/voicemail';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { readerOf } from '#lib/server/voicemail/voicemail.ts';
import type { RequestHandler } from './$types';

/** The new messages over the mailboxes the user reads: the badge every portal page shows. */
export const GET: RequestHandler = inArea('voicemail', async (event) => json({ unread: await voicemailUnreadCount((await getRuntime()).db, readerOf(caller(event))) }));
