import { json } from '@sveltejs/kit';
import { changeSmsCampaignState, isOwnSmsCampaign, readSmsCampaign } from '@carillon/core/sms';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { smsCampaignActionSchema } from '#lib/server/sms/sms-campaigns.ts';
import type { RequestHandler } from './$types';

/** One of the account's campaigns with its progress (each line in one bucket); another account's is not found. */
export const GET: RequestHandler = inArea('sms', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const view = await readSmsCampaign((await getRuntime()).db, caller(event).account.id, event.params.id);
  return view ? json(view) : notFound();
});

/** Pauses, resumes or cancels the campaign (audited). */
export const PATCH: RequestHandler = inArea('sms', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const auth = caller(event);
  const db = (await getRuntime()).db;
  if (!(await isOwnSmsCampaign(db, auth.account.id, event.params.id))) return notFound();
  const body = await readJson(event.request, smsCampaignActionSchema);
  if (!body.ok) return body.response;
  const status = await changeSmsCampaignState(db, { ...actorOf(event), accountId: auth.account.id }, event.params.id, body.data.action);
  if (status === undefined) return notFound();
  if (status === 'invalid_state') return json({ error: 'invalid_state', message: `a campaign in this state cannot ${body.data.action}` }, { status: 409 });
  return json({ status });
});
