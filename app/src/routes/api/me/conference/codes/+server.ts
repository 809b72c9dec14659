import { json } from '@sveltejs/kit';
import { regenerateConferenceCodes } from '@carillon/core/conference';
import { regenerateCodesSchema } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, notFound, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** New access codes for the signed-in user (host, participant or both): the old ones stop working at once. Audited, without the codes. */
export const POST: RequestHandler = inArea('conference', async (event) => {
  const auth = caller(event);
  const extensionId = auth.user.extension_id;
  if (!extensionId) return notFound();
  const body = await readJson(event.request, regenerateCodesSchema);
  if (!body.ok) return body.response;
  const codes = await regenerateConferenceCodes((await getRuntime()).db, actorOf(event), auth.account.id, extensionId, body.data.which);
  return codes ? json({ codes }) : notFound();
});
