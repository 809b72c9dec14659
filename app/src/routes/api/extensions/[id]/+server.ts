import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound } from '#lib/server/api.ts';
import { deleteUnassignedExtension, findUnassigned } from '#lib/server/users/unassigned-extensions.ts';
import { siteInScope, userScopeOf } from '#lib/server/users/scope.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const db = (await getRuntime()).db;
  const ext = await db
    .selectFrom('extensions')
    .select(['id', 'number', 'type', 'status', 'name', 'site_id as siteId'])
    .where('account_id', '=', caller(event).account.id)
    .where('id', '=', event.params.id)
    .executeTakeFirst();
  return ext && siteInScope(await userScopeOf(db, caller(event)), ext.siteId) ? json(ext) : notFound();
};

/** Only an unassigned extension can be deleted here; a user's goes with the user (POST /api/users/bulk). */
export const DELETE: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const rt = await getRuntime();
  const db = rt.db;
  const ext = await findUnassigned(db, caller(event).account.id, event.params.id);
  if (!ext || !siteInScope(await userScopeOf(db, caller(event)), ext.site_id)) return notFound();
  const done = await deleteUnassignedExtension(db, rt.config.dataDir, caller(event).account.id, actorOf(event), event.params.id);
  if (done === 'not_found') return notFound();
  if (done === 'operator_extension') return json({ error: 'operator_extension' }, { status: 409 });
  return new Response(null, { status: 204 });
};
