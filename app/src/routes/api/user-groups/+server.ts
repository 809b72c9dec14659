import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { createGroup, groupCreate, groupErrorBody, listGroups } from '#lib/server/user-groups/groups.ts';
import type { RequestHandler } from './$types';

/** GET /api/user-groups → { items: [{ id, name, description, managerId, managerName, members }] } */
export const GET: RequestHandler = async (event) => json({ items: await listGroups((await getRuntime()).db, caller(event)) });

/** POST /api/user-groups { name, description?, memberIds?, managerId? } → 201 group */
export const POST: RequestHandler = async (event) => {
  const body = await readJson(event.request, groupCreate);
  if (!body.ok) return body.response;
  const out = await createGroup((await getRuntime()).db, caller(event), actorOf(event), body.data);
  return out.ok ? json(out.value, { status: 201 }) : json(groupErrorBody(out), { status: out.status });
};
