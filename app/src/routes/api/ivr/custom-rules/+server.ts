import { json } from '@sveltejs/kit';
import { companyRuleInput } from '@carillon/domain';
import { CompanyRuleError, createCompanyRule } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { companyRuleRefusal, companyRulesView } from '#lib/server/ivr/ivr.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** RULE-06: the company's custom answering rules in the order they are tried, with what a rule can name and the rules' issues (IVR-15). */
export const GET: RequestHandler = inArea('ivr', async (event) => {
  const { account } = caller(event);
  return json(await companyRulesView(await getRuntime(), account.id, account.time_zone));
});

/** RULE-02: a new rule, last in the list; its target must exist and take calls. The next call to a company number reads it. */
export const POST: RequestHandler = inArea('ivr', async (event) => {
  const body = await readJson(event.request, companyRuleInput);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  try {
    return json({ rule: await createCompanyRule(rt.db, actorOf(event), accountId, body.data) }, { status: 201 });
  } catch (err) {
    if (err instanceof CompanyRuleError) return companyRuleRefusal(err);
    throw err;
  }
});
