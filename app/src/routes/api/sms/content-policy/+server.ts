import { json } from '@sveltejs/kit';
import { setSmsRequireCleanContent, smsRequiresCleanContent } from '@carillon/core/sms';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { smsContentPolicySchema } from '#lib/server/sms/sms-campaigns.ts';
import type { RequestHandler } from './$types';

/** Whether texts with shortened URLs or spam patterns are refused (true) or only warned about. */
export const GET: RequestHandler = inArea('sms', async (event) => {
  const auth = caller(event);
  return json({ requireCleanContent: await smsRequiresCleanContent((await getRuntime()).db, auth.account.id) });
});

/** Sets the account's content policy (audited). */
export const PUT: RequestHandler = inArea('sms', async (event) => {
  const auth = caller(event);
  const body = await readJson(event.request, smsContentPolicySchema);
  if (!body.ok) return body.response;
  await setSmsRequireCleanContent((await getRuntime()).db, { ...actorOf(event), accountId: auth.account.id }, body.data.requireCleanContent);
  return json({ requireCleanContent: body.data.requireCleanContent });
});
