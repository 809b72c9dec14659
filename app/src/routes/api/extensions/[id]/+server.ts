import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound } from '#lib/server/api.ts';
import { deleteUnassignedExtension } from '#lib/server/users/unassigned-extensions.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const ext = await (await getRuntime()).db
    .selectFrom('extensions')
    .select(['id', 'number', 'type', 'status', 'name', 'site_id as siteId'])
    .where('account_id', '=', caller(event).account.id)
    .where('id', '=', event.params.id)
    .executeTakeFirst();
  return ext ? json(ext) : notFound();
};

/** Only an unassigned extension can be deleted here; a user's goes with the user (POST /api/users/bulk). */
export const DELETE: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const done = await deleteUnassignedExtension((await getRuntime()).db, caller(event).account.id, actorOf(event), event.params.id);
  if (done === 'not_found') return notFound();
  if (done === 'operator_extension') return json({ error: 'operator_extension' }, { status: 409 });
  return new Response(null, { status: 204 });
};
