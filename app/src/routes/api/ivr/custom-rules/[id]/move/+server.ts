import { json } from '@sveltejs/kit';
import { companyRuleMove, getCompanyRule, moveCompanyRule } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** RULE-06's order: the rule takes place `position` (1 first; past the end, last). Answers the whole list in its new order. */
export const POST: RequestHandler = inArea('ivr', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  if (!(await getCompanyRule(rt.db, accountId, event.params.id))) return notFound();
  const body = await readJson(event.request, companyRuleMove);
  if (!body.ok) return body.response;
  const rules = await moveCompanyRule(rt.db, actorOf(event), accountId, event.params.id, body.data.position);
  return rules ? json({ rules }) : notFound();
});
