import { json } from '@sveltejs/kit';
import { createIvrMenu, IvrError, listIvrMenus, newMenuInput } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { withIssues } from '#lib/server/ivr/ivr.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = inArea('ivr', async (event) => json(await listIvrMenus((await getRuntime()).db, caller(event).account.id)));

/** IVR-11: a new menu is a new extension with its own number. */
export const POST: RequestHandler = inArea('ivr', async (event) => {
  const body = await readJson(event.request, newMenuInput);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  try {
    const menu = await createIvrMenu(rt.db, actorOf(event), accountId, body.data);
    return json(await withIssues(rt, accountId, { menu }), { status: 201 });
  } catch (err) {
    if (err instanceof IvrError) return json({ error: err.code, detail: err.detail }, { status: 409 });
    throw err;
  }
});
