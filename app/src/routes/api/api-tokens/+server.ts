import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { apiTokenInput, ApiTokenError, createApiToken, listApiTokens } from '#lib/server/api-tokens/api-tokens.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => json(await listApiTokens((await getRuntime()).db, caller(event).account.id));

/** Answers 201 with the token and its secret, which is never shown again. */
export const POST: RequestHandler = async (event) => {
  const body = await readJson(event.request, apiTokenInput);
  if (!body.ok) return body.response;
  try {
    return json(await createApiToken((await getRuntime()).db, actorOf(event), caller(event), body.data), { status: 201 });
  } catch (err) {
    if (err instanceof ApiTokenError) return json({ error: 'invalid_body', fields: { roleId: err.code } }, { status: 400 });
    throw err;
  }
};
