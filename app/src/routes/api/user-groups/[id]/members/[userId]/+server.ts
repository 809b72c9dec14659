import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound } from '#lib/server/api.ts';
import { getGroup, groupErrorBody, removeMember } from '#lib/server/user-groups/groups.ts';
import type { RequestHandler } from './$types';

/** DELETE /api/user-groups/:id/members/:userId → the group; the manager cannot be removed (409). */
export const DELETE: RequestHandler = async (event) => {
  const db = (await getRuntime()).db;
  const group = isUuid(event.params.id) ? await getGroup(db, caller(event), event.params.id) : undefined;
  if (!group || !isUuid(event.params.userId)) return notFound();
  const out = await removeMember(db, caller(event), actorOf(event), group, event.params.userId);
  if (!out) return notFound();
  return out.ok ? json(out.value) : json(groupErrorBody(out), { status: out.status });
};
