import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson, readQuery } from '#lib/server/api.ts';
import { createTemplate, listTemplates, templateCreate, templateListQuery } from '#lib/server/templates/templates.ts';
import { templateErrorResponse } from '#lib/server/templates/responses.ts';
import type { RequestHandler } from './$types';

/** GET /api/templates?kind= → the account's templates, by name. */
export const GET: RequestHandler = async (event) => {
  const q = readQuery(event.url, templateListQuery);
  if (!q.ok) return q.response;
  return json(await listTemplates((await getRuntime()).db, caller(event).account.id, q.data.kind));
};

/** POST /api/templates { kind, name, settings } → 201 with the template. */
export const POST: RequestHandler = async (event) => {
  const body = await readJson(event.request, templateCreate);
  if (!body.ok) return body.response;
  const created = await createTemplate((await getRuntime()).db, caller(event), actorOf(event), body.data);
  if ('error' in created) return templateErrorResponse(created);
  return json(created, { status: 201 });
};
