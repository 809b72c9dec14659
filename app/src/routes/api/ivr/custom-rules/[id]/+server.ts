import { json } from '@sveltejs/kit';
import { companyRuleInput } from '@carillon/domain';
import { CompanyRuleError, deleteCompanyRule, getCompanyRule, updateCompanyRule } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { companyRuleRefusal } from '#lib/server/ivr/ivr.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** RULE-02's "Edit Custom Rule" and RULE-06's enable/disable: the rule replaced whole, in its place. */
export const PUT: RequestHandler = inArea('ivr', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  // Another account's rule is not found, whatever the body says.
  if (!(await getCompanyRule(rt.db, accountId, event.params.id))) return notFound();
  const body = await readJson(event.request, companyRuleInput);
  if (!body.ok) return body.response;
  try {
    const rule = await updateCompanyRule(rt.db, actorOf(event), accountId, event.params.id, body.data);
    return rule ? json({ rule }) : notFound();
  } catch (err) {
    if (err instanceof CompanyRuleError) return companyRuleRefusal(err);
    throw err;
  }
});

/** Deletes a rule; the rules after it move up one place. */
export const DELETE: RequestHandler = inArea('ivr', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const deleted = await deleteCompanyRule((await getRuntime()).db, actorOf(event), caller(event).account.id, event.params.id);
  return deleted ? new Response(null, { status: 204 }) : notFound();
});
