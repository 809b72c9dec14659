import { json } from '@sveltejs/kit';
import { listSmsConversations, smsNumbersOfUser, smsUnreadCount } from '@carillon/core/sms';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readJson, readQuery } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { sendUserSms, smsListQuery, smsSendSchema } from '#lib/server/sms/sms.ts';
import type { RequestHandler } from './$types';

/** The signed-in user's numbers, their conversations (newest first, with unread counts) and the unread total. */
export const GET: RequestHandler = inArea('sms', async (event) => {
  const auth = caller(event);
  const query = readQuery(event.url, smsListQuery);
  if (!query.ok) return query.response;
  const db = (await getRuntime()).db;
  const user = { accountId: auth.account.id, userId: auth.user.id };
  const [numbers, conversations, unread] = await Promise.all([
    smsNumbersOfUser(db, user),
    listSmsConversations(db, user, query.data.number ? { businessNumber: query.data.number } : {}),
    smsUnreadCount(db, user),
  ]);
  return json({ numbers, conversations, unread });
});

/** Sends a text from one of the user's numbers: a group text (one conversation) or the same text to each recipient. */
export const POST: RequestHandler = inArea('sms', async (event) => {
  const auth = caller(event);
  const body = await readJson(event.request, smsSendSchema);
  if (!body.ok) return body.response;
  return sendUserSms(await getRuntime(), auth, body.data);
});
