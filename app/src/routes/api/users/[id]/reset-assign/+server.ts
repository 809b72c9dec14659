import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { getUserDetails } from '#lib/server/users/user-settings.ts';
import { resetAndAssign, resetAssignRequest } from '#lib/server/users/reset-assign.ts';
import type { RequestHandler } from './$types';

/** POST { reset: [sections], user: { firstName, lastName, email, … } }: only on a deactivated extension (else 409). */
export const POST: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const auth = caller(event);
  const rt = await getRuntime();
  const before = await getUserDetails(rt.db, auth.account.id, event.params.id);
  if (!before) return notFound();
  const body = await readJson(event.request, resetAssignRequest);
  if (!body.ok) return body.response;
  const refused = await resetAndAssign(rt.db, auth, actorOf(event), before, body.data);
  if (refused) return json({ error: refused.error }, { status: refused.status });
  return json(await getUserDetails(rt.db, auth.account.id, before.id));
};
