import { json } from '@sveltejs/kit';
import { granterOf, grantRefusalText } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { assignExtension, assignRequest, findUnassigned } from '#lib/server/users/unassigned-extensions.ts';
import { siteInScope, userScopeOf } from '#lib/server/users/scope.ts';
import type { RequestHandler } from './$types';

/** POST /api/extensions/{id}/assign { firstName, lastName, email } → 201 { userId }: a new user on an unassigned extension, activated later. */
export const POST: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const accountId = caller(event).account.id;
  const db = (await getRuntime()).db;
  // Existence first: another account's id is a 404 whatever the body says.
  const ext = await findUnassigned(db, accountId, event.params.id);
  if (!ext || !siteInScope(await userScopeOf(db, caller(event)), ext.site_id)) return notFound();
  const body = await readJson(event.request, assignRequest);
  if (!body.ok) return body.response;
  const done = await assignExtension(db, granterOf(caller(event)), actorOf(event), event.params.id, body.data);
  if ('error' in done) {
    if (done.error === 'not_found') return notFound();
    if (done.error === 'role_refused') return json({ error: done.refused.reason, ...('permissions' in done.refused ? { permissions: done.refused.permissions } : {}), message: grantRefusalText(done.refused) }, { status: 403 });
    return json({ error: 'invalid_body', fields: { email: 'already used to sign in by another user' } }, { status: 409 });
  }
  return json(done, { status: 201 });
};
