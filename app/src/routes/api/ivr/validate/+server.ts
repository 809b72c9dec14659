import { json } from '@sveltejs/kit';
import { getIvrSettings, validateAccountIvr } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readJson } from '#lib/server/api.ts';
import { validateMenusInput } from '#lib/server/ivr/ivr.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/**
 * IVR-15's "Validate Menu": the issues of the stored configuration; with a JSON body `{menus}`, of those
 * menus (the visual editor's unsaved copy) with the stored settings, by the same rules and the same
 * account context as on save. Nothing is written.
 */
export const POST: RequestHandler = inArea('ivr', async (event) => {
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  if (!(event.request.headers.get('content-type') ?? '').startsWith('application/json')) return json({ issues: await validateAccountIvr(rt.db, accountId) });
  const body = await readJson(event.request, validateMenusInput);
  if (!body.ok) return body.response;
  const menus = body.data.menus;
  return json({ issues: menus ? await validateAccountIvr(rt.db, accountId, { settings: await getIvrSettings(rt.db, accountId), menus }) : await validateAccountIvr(rt.db, accountId) });
});
