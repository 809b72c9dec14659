import { json } from '@sveltejs/kit';
import { companyRuleChoices, ivrDialableNumbers, listIvrMenus, getIvrSettings } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { withIssues } from '#lib/server/ivr/ivr.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/**
 * The account's whole IVR configuration: settings, menus (with their extension ids) and validation issues,
 * with the extension numbers a caller may dial during a prompt (the "try it" simulator's, issue 14) and
 * the extensions single-level mode's schedules can send company calls to (AR-01: those that take calls,
 * as a custom rule's extension target).
 */
export const GET: RequestHandler = inArea('ivr', async (event) => {
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  const [settings, menus, dialable, choices] = await Promise.all([getIvrSettings(rt.db, accountId), listIvrMenus(rt.db, accountId), ivrDialableNumbers(rt.db, accountId), companyRuleChoices(rt.db, accountId)]);
  const callTargets = choices.targets.filter((t) => t.type !== 'ivr_menu');
  return json(await withIssues(rt, accountId, { settings, menus, dialable, callTargets }));
});
