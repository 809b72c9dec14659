import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { applyRequest, applyTemplate, getTemplate, mayApply, QueueUnavailableError } from '#lib/server/templates/templates.ts';
import { roleErrorBody } from '#lib/server/roles/roles.ts';
import type { RequestHandler } from './$types';

/**
 * POST /api/templates/[id]/apply { userIds } → 202 { applicationId, queue, jobId, total, notFound }.
 * Runs in the background; progress comes as `job:progress` socket events and
 * from GET /api/template-applications/[id]; the admin is e-mailed at the end.
 */
export const POST: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const rt = await getRuntime();
  const auth = caller(event);
  const template = await getTemplate(rt.db, auth.account.id, event.params.id);
  if (!template) return notFound();
  const body = await readJson(event.request, applyRequest);
  if (!body.ok) return body.response;
  const refused = await mayApply(rt.db, auth, template);
  if (refused) return json(roleErrorBody(refused), { status: refused.status });
  try {
    return json(await applyTemplate(rt, auth, actorOf(event), template, body.data.userIds), { status: 202 });
  } catch (err) {
    if (err instanceof QueueUnavailableError) return json({ error: 'queue_unavailable', message: err.message }, { status: 503 });
    throw err;
  }
};
