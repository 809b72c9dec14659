import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound } from '#lib/server/api.ts';
import { confirmBulkEdit } from '#lib/server/users/bulk-edit/bulk-edit.ts';
import type { RequestHandler } from './$types';

/**
 * POST /api/users/bulk-edit/{id}/confirm: applies every row in one transaction. A file with
 * errors (then, or found again now) is refused with 409 and its report; nothing is applied.
 */
export const POST: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const outcome = await confirmBulkEdit((await getRuntime()).db, caller(event), actorOf(event), event.params.id);
  if (outcome.ok) return json({ ...outcome.edit, applied: outcome.applied });
  if (outcome.status === 404) return notFound();
  return json({ error: outcome.error, ...outcome.edit }, { status: 409 });
};
