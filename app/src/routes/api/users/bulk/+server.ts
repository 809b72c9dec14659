import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { bulkRequest, runBulkAction } from '#lib/server/users/bulk.ts';
import { roleErrorBody } from '#lib/server/roles/roles.ts';
import { applyTemplate, getTemplate, mayApply, QueueUnavailableError } from '#lib/server/templates/templates.ts';
import type { RequestHandler } from './$types';

/**
 * POST /api/users/bulk { action, userIds, siteId?, renumber?, extensions?, roleId?, password?, passwordConfirm?, templateId? }
 * → { results: [{ userId, result, reason?, rules?, extension? }] }; `apply_template` answers 202 with the background
 * job instead (as POST /api/templates/[id]/apply).
 */
export const POST: RequestHandler = async (event) => {
  const body = await readJson(event.request, bulkRequest);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  const { action } = body.data;
  if (action === 'apply_template') {
    const template = await getTemplate(rt.db, caller(event).account.id, body.data.templateId!);
    if (!template) return json({ error: 'invalid_body', fields: { templateId: 'not_found' } }, { status: 400 });
    const refused = await mayApply(rt.db, caller(event), template);
    if (refused) return json(roleErrorBody(refused), { status: refused.status });
    try {
      return json(await applyTemplate(rt, caller(event), actorOf(event), template, body.data.userIds), { status: 202 });
    } catch (err) {
      if (err instanceof QueueUnavailableError) return json({ error: 'queue_unavailable', message: err.message }, { status: 503 });
      throw err;
    }
  }
  const outcome = await runBulkAction(rt, caller(event), actorOf(event), { ...body.data, action });
  if ('error' in outcome) return json({ error: 'invalid_body', fields: outcome.error === 'site_not_found' ? { siteId: 'not_found' } : { roleId: 'not_found' } }, { status: 400 });
  if ('refused' in outcome) return json(roleErrorBody(outcome.refused), { status: outcome.refused.status });
  return json(outcome);
};
