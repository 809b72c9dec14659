import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { bulkRequest, runBulkAction } from '#lib/server/users/bulk.ts';
import { roleErrorBody } from '#lib/server/roles/roles.ts';
import type { RequestHandler } from './$types';

/** POST /api/users/bulk { action, userIds, siteId?, roleId?, password?, passwordConfirm? } → { results: [{ userId, result, reason?, rules? }] } */
export const POST: RequestHandler = async (event) => {
  const body = await readJson(event.request, bulkRequest);
  if (!body.ok) return body.response;
  const outcome = await runBulkAction(await getRuntime(), caller(event), actorOf(event), body.data);
  if ('error' in outcome) return json({ error: 'invalid_body', fields: outcome.error === 'site_not_found' ? { siteId: 'not_found' } : { roleId: 'not_found' } }, { status: 400 });
  if ('refused' in outcome) return json(roleErrorBody(outcome.refused), { status: outcome.refused.status });
  return json(outcome);
};
