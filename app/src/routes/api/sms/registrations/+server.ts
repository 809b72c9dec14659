import { json } from '@sveltejs/kit';
import { listSmsRegistrations, submitSmsRegistration } from '@carillon/core/sms';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { smsRegistrationErrorResponse, smsRegistrationSchema } from '#lib/server/sms/sms-campaigns.ts';
import type { RequestHandler } from './$types';

/** The account's high-volume registrations, newest first. */
export const GET: RequestHandler = inArea('sms', async (event) => {
  const auth = caller(event);
  return json({ registrations: await listSmsRegistrations((await getRuntime()).db, auth.account.id) });
});

/** Asks for one of the account's numbers to be enabled for high volume (pending until an admin reviews it). */
export const POST: RequestHandler = inArea('sms', async (event) => {
  const auth = caller(event);
  const body = await readJson(event.request, smsRegistrationSchema);
  if (!body.ok) return body.response;
  const result = await submitSmsRegistration((await getRuntime()).db, { ...actorOf(event), accountId: auth.account.id }, body.data);
  return result.ok ? json(result.registration, { status: 201 }) : smsRegistrationErrorResponse(result.error);
});
