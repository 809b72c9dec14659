import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { sendApiSms, smsApiSendSchema } from '#lib/server/sms/sms-api.ts';
import type { RequestHandler } from './$types';

/** Sends one A2P text from a number approved for high volume (API tokens welcome). */
export const POST: RequestHandler = inArea('sms', async (event) => {
  const auth = caller(event);
  const body = await readJson(event.request, smsApiSendSchema);
  if (!body.ok) return body.response;
  return sendApiSms(await getRuntime(), auth, body.data);
});
