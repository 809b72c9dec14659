import { json } from '@sveltejs/kit';
import { searchSmsMessages } from '@carillon/core/sms';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readQuery } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { smsSearchQuery } from '#lib/server/sms/sms.ts';
import type { RequestHandler } from './$types';

/** Texts of the signed-in user's conversations matching a text or a number, newest first, at most `limit`. */
export const GET: RequestHandler = inArea('sms', async (event) => {
  const auth = caller(event);
  const query = readQuery(event.url, smsSearchQuery);
  if (!query.ok) return query.response;
  const found = await searchSmsMessages((await getRuntime()).db, { accountId: auth.account.id, userId: auth.user.id }, query.data.q, query.data.limit);
  return json({ results: found.hits, truncated: found.truncated });
});
