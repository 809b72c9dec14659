import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { addMembers, getGroup, groupErrorBody, membersAdd } from '#lib/server/user-groups/groups.ts';
import type { RequestHandler } from './$types';

/** POST /api/user-groups/:id/members { userIds } → the group */
export const POST: RequestHandler = async (event) => {
  const db = (await getRuntime()).db;
  const group = isUuid(event.params.id) ? await getGroup(db, caller(event), event.params.id) : undefined;
  if (!group) return notFound();
  const body = await readJson(event.request, membersAdd);
  if (!body.ok) return body.response;
  const out = await addMembers(db, caller(event), actorOf(event), group, body.data.userIds);
  return out.ok ? json(out.value) : json(groupErrorBody(out), { status: out.status });
};
