import { json } from '@sveltejs/kit';
import { listIvrMenus, getIvrSettings } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { withIssues } from '#lib/server/ivr/ivr.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** The account's whole IVR configuration: settings, menus (with their extension ids) and validation issues. */
export const GET: RequestHandler = inArea('ivr', async (event) => {
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  const [settings, menus] = await Promise.all([getIvrSettings(rt.db, accountId), listIvrMenus(rt.db, accountId)]);
  return json(await withIssues(rt, accountId, { settings, menus }));
});
