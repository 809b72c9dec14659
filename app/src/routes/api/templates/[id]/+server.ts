import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { deleteTemplate, getTemplate, templatePatch, updateTemplate } from '#lib/server/templates/templates.ts';
import { templateErrorResponse } from '#lib/server/templates/responses.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const t = await getTemplate((await getRuntime()).db, caller(event).account.id, event.params.id);
  return t ? json(t) : notFound();
};

/** PATCH { name?, settings? }: settings replace the template's as a whole. */
export const PATCH: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const rt = await getRuntime();
  const auth = caller(event);
  const before = await getTemplate(rt.db, auth.account.id, event.params.id);
  if (!before) return notFound();
  const body = await readJson(event.request, templatePatch);
  if (!body.ok) return body.response;
  const updated = await updateTemplate(rt.db, auth, actorOf(event), before, body.data);
  if ('error' in updated) return templateErrorResponse(updated);
  return json(updated);
};

export const DELETE: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const rt = await getRuntime();
  const auth = caller(event);
  const before = await getTemplate(rt.db, auth.account.id, event.params.id);
  if (!before) return notFound();
  await deleteTemplate(rt.db, auth, actorOf(event), before);
  return new Response(null, { status: 204 });
};
