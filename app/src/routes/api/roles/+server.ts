import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { createRole, listRoles, roleCreate, roleErrorBody } from '#lib/server/roles/roles.ts';
import type { RequestHandler } from './$types';

/** GET /api/roles → { items: predefined then custom roles, with permissions, scope, holders and the default } */
export const GET: RequestHandler = async (event) => json({ items: await listRoles((await getRuntime()).db, caller(event).account.id) });

/** POST /api/roles { baseRoleId, name, description?, permissions?, scope?, siteIds?, isDefault? } → 201 role */
export const POST: RequestHandler = async (event) => {
  const body = await readJson(event.request, roleCreate);
  if (!body.ok) return body.response;
  const out = await createRole((await getRuntime()).db, caller(event), actorOf(event), body.data);
  return out.ok ? json(out.value, { status: 201 }) : json(roleErrorBody(out), { status: out.status });
};
