import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound } from '#lib/server/api.ts';
import { getApiToken, revokeApiToken } from '#lib/server/api-tokens/api-tokens.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const token = await getApiToken((await getRuntime()).db, caller(event).account.id, event.params.id);
  return token ? json(token) : notFound();
};

/** Revokes the token (kept in the list as revoked); revoking it again changes nothing. */
export const DELETE: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const token = await revokeApiToken((await getRuntime()).db, actorOf(event), caller(event).account.id, event.params.id);
  return token ? json(token) : notFound();
};
