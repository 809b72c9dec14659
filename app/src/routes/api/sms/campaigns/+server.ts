import { json } from '@sveltejs/kit';
import { listSmsCampaigns } from '@carillon/core/sms';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { createCampaignFromForm } from '#lib/server/sms/sms-campaigns.ts';
import type { RequestHandler } from './$types';

/** The account's campaigns, newest first. */
export const GET: RequestHandler = inArea('sms', async (event) => {
  const auth = caller(event);
  return json({ campaigns: await listSmsCampaigns((await getRuntime()).db, auth.account.id) });
});

/** A new campaign (multipart/form-data: name, from, template, startAt?, file): each bad line reported, the good ones kept. */
export const POST: RequestHandler = inArea('sms', async (event) => createCampaignFromForm(await getRuntime(), caller(event), actorOf(event), event.request));
