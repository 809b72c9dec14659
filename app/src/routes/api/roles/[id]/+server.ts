import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { deleteRole, getRole, roleErrorBody, rolePatch, updateRole } from '#lib/server/roles/roles.ts';
import type { RequestEvent } from '@sveltejs/kit';
import type { RequestHandler } from './$types';

async function found(event: RequestEvent<{ id: string }>) {
  if (!isUuid(event.params.id)) return undefined;
  return getRole((await getRuntime()).db, caller(event).account.id, event.params.id);
}

export const GET: RequestHandler = async (event) => {
  const role = await found(event);
  return role ? json(role) : notFound();
};

/** PATCH /api/roles/:id { name?, description?, permissions?, scope?, siteIds?, isDefault?: true } */
export const PATCH: RequestHandler = async (event) => {
  const role = await found(event);
  if (!role) return notFound();
  const body = await readJson(event.request, rolePatch);
  if (!body.ok) return body.response;
  const out = await updateRole((await getRuntime()).db, caller(event), actorOf(event), role, body.data);
  return out.ok ? json(out.value) : json(roleErrorBody(out), { status: out.status });
};

/** DELETE /api/roles/:id: refused (409, with the count) while users hold the role. */
export const DELETE: RequestHandler = async (event) => {
  const role = await found(event);
  if (!role) return notFound();
  const out = await deleteRole((await getRuntime()).db, caller(event), actorOf(event), role);
  return out.ok ? new Response(null, { status: 204 }) : json(roleErrorBody(out), { status: out.status });
};
