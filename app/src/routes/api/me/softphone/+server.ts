import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller } from '#lib/server/api.ts';
import { softphoneRegistration } from '#lib/server/softphone.ts';
import type { RequestHandler } from './$types';

/** The browser softphone's SIP registration, issued for the signed-in user's extension. */
export const GET: RequestHandler = async (event) => {
  const result = await softphoneRegistration(await getRuntime(), caller(event), actorOf(event), event.url);
  if ('error' in result) return json(result, { status: result.error === 'no_extension' ? 409 : 503 });
  return json(result, { headers: { 'cache-control': 'no-store' } });
};
