import { json } from '@sveltejs/kit';
import { companyInfoInput, updateCompanyInfo } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import type { RequestHandler } from './$types';

function accountView(a: ReturnType<typeof caller>['account']) {
  return {
    id: a.id,
    companyName: a.company_name,
    callerIdName: a.caller_id_name,
    mainNumber: a.main_number,
    street: a.street,
    street2: a.street2,
    city: a.city,
    state: a.state,
    postalCode: a.postal_code,
    addressCountry: a.address_country,
    country: a.country,
    timeZone: a.time_zone,
    language: a.language,
    timeFormat: a.time_format,
    plan: a.plan,
    setupCompleted: Boolean(a.setup_completed_at),
  };
}

export const GET: RequestHandler = (event) => json(accountView(caller(event).account));

export const PATCH: RequestHandler = async (event) => {
  const auth = caller(event);
  const body = await readJson(event.request, companyInfoInput);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  await updateCompanyInfo(rt.db, auth.account.id, actorOf(event), body.data);
  const fresh = await rt.db.selectFrom('accounts').selectAll().where('id', '=', auth.account.id).executeTakeFirstOrThrow();
  return json(accountView(fresh));
};
