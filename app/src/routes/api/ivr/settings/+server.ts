import { json } from '@sveltejs/kit';
import { ivrSettingsChange } from '@carillon/domain';
import { CompanyRuleError, IvrError, saveIvrSettings } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { companyRuleRefusal, withIssues } from '#lib/server/ivr/ivr.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/**
 * IVR-02…IVR-04, AR-03, AR-05, AR-06: mode, top menus, company hours, generic keys, no-input action, zero dialing, operator, fax/SMS recipient.
 * Hours and directory may be left out (the general settings form does): they then keep what is stored.
 * AR-01's single-level company call handling (`singleLevel`) too; a schedule's extension that does not
 * exist or cannot take calls is a 400 naming the field, as a custom rule's target is.
 */
export const PUT: RequestHandler = inArea('ivr', async (event) => {
  const body = await readJson(event.request, ivrSettingsChange);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  try {
    const settings = await saveIvrSettings(rt.db, actorOf(event), accountId, body.data);
    return json(await withIssues(rt, accountId, { settings }));
  } catch (err) {
    if (err instanceof IvrError) return json({ error: err.code, detail: err.detail }, { status: 409 });
    if (err instanceof CompanyRuleError) return companyRuleRefusal(err);
    throw err;
  }
});
