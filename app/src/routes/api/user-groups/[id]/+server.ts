import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { deleteGroup, getGroup, groupErrorBody, groupPatch, updateGroup } from '#lib/server/user-groups/groups.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  const group = isUuid(event.params.id) ? await getGroup((await getRuntime()).db, caller(event), event.params.id) : undefined;
  return group ? json(group) : notFound();
};

/** PATCH /api/user-groups/:id { name?, description?, managerId? } */
export const PATCH: RequestHandler = async (event) => {
  const db = (await getRuntime()).db;
  const group = isUuid(event.params.id) ? await getGroup(db, caller(event), event.params.id) : undefined;
  if (!group) return notFound();
  const body = await readJson(event.request, groupPatch);
  if (!body.ok) return body.response;
  const out = await updateGroup(db, caller(event), actorOf(event), group, body.data);
  return out.ok ? json(out.value) : json(groupErrorBody(out), { status: out.status });
};

export const DELETE: RequestHandler = async (event) => {
  const db = (await getRuntime()).db;
  const group = isUuid(event.params.id) ? await getGroup(db, caller(event), event.params.id) : undefined;
  if (!group) return notFound();
  await deleteGroup(db, caller(event), actorOf(event), group);
  return new Response(null, { status: 204 });
};
