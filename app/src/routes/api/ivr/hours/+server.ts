import { json } from '@sveltejs/kit';
import { companyHoursInput, getIvrSettings, saveCompanyHours } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/**
 * AR-03: the company hours, with the account's time zone they are read in (set under Regional Settings, not
 * here) and the after-hours menu they lead to (without one, the hours change nothing: the page says so).
 */
export const GET: RequestHandler = inArea('ivr', async (event) => {
  const rt = await getRuntime();
  const { account } = caller(event);
  const settings = await getIvrSettings(rt.db, account.id);
  return json({ hours: settings.hours, timeZone: account.time_zone, afterHoursMenu: settings.afterHoursMenu });
});

/** AR-03: saves the company hours alone; the edge reads them on the next call to a company number. */
export const PUT: RequestHandler = inArea('ivr', async (event) => {
  const body = await readJson(event.request, companyHoursInput);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  const { account } = caller(event);
  const settings = await saveCompanyHours(rt.db, actorOf(event), account.id, body.data.hours);
  return json({ hours: settings.hours, timeZone: account.time_zone, afterHoursMenu: settings.afterHoursMenu });
});

