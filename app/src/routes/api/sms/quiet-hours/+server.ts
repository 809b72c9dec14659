import { json } from '@sveltejs/kit';
import { setSmsQuietHours, smsQuietHours } from '@carillon/core/sms';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { smsQuietHoursSchema } from '#lib/server/sms/sms-campaigns.ts';
import type { RequestHandler } from './$types';

/** The account's campaign quiet hours, on its wall clock (null: none), and that time zone. */
export const GET: RequestHandler = inArea('sms', async (event) => {
  const auth = caller(event);
  return json({ quietHours: await smsQuietHours((await getRuntime()).db, auth.account.id), timeZone: auth.account.time_zone });
});

/** Sets or clears the quiet hours (audited): campaigns send nothing inside them and resume at their end. */
export const PUT: RequestHandler = inArea('sms', async (event) => {
  const auth = caller(event);
  const body = await readJson(event.request, smsQuietHoursSchema);
  if (!body.ok) return body.response;
  await setSmsQuietHours((await getRuntime()).db, { ...actorOf(event), accountId: auth.account.id }, body.data.quietHours);
  return json({ quietHours: body.data.quietHours, timeZone: auth.account.time_zone });
});
