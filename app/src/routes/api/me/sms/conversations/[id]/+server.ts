import { json } from '@sveltejs/kit';
import { deleteSmsConversation, readSmsConversation } from '@carillon/core/sms';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** One of the user's conversations and its latest texts; another user's or account's is not found. */
export const GET: RequestHandler = inArea('sms', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const auth = caller(event);
  const view = await readSmsConversation((await getRuntime()).db, { accountId: auth.account.id, userId: auth.user.id }, event.params.id);
  return view ? json(view) : notFound();
});

/** Deletes the conversation and its texts. */
export const DELETE: RequestHandler = inArea('sms', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const auth = caller(event);
  const ok = await deleteSmsConversation((await getRuntime()).db, { accountId: auth.account.id, userId: auth.user.id }, event.params.id);
  return ok ? new Response(null, { status: 204 }) : notFound();
});
