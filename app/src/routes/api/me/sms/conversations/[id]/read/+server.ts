import { json } from '@sveltejs/kit';
import { markSmsConversationRead, smsUnreadCount } from '@carillon/core/sms';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** Marks the texts received in the conversation read; answers the user's unread total after it. */
export const POST: RequestHandler = inArea('sms', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const auth = caller(event);
  const db = (await getRuntime()).db;
  const user = { accountId: auth.account.id, userId: auth.user.id };
  if (!(await markSmsConversationRead(db, user, event.params.id))) return notFound();
  return json({ unread: await smsUnreadCount(db, user) });
});
