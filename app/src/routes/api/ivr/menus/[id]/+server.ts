import { json } from '@sveltejs/kit';
import { deleteIvrMenu, getIvrMenu, IvrError, menuPatch, updateIvrMenu } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { speakMenuPrompt, withIssues } from '#lib/server/ivr/ivr.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = inArea('ivr', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const menu = await getIvrMenu((await getRuntime()).db, caller(event).account.id, event.params.id);
  return menu ? json(menu) : notFound();
});

/** IVR-12, IVR-13, PR-05, PR-06: extension info, prompt, keys, generic keys. Answers the menu and the configuration's issues. */
export const PATCH: RequestHandler = inArea('ivr', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  // Another account's menu is not found, whatever the body says.
  if (!(await getIvrMenu(rt.db, accountId, event.params.id))) return notFound();
  const body = await readJson(event.request, menuPatch);
  if (!body.ok) return body.response;
  try {
    const menu = await updateIvrMenu(rt.db, actorOf(event), accountId, event.params.id, body.data);
    if (!menu) return notFound();
    await speakMenuPrompt(rt, menu);
    return json(await withIssues(rt, accountId, { menu }));
  } catch (err) {
    if (err instanceof IvrError) return json({ error: err.code, detail: err.detail }, { status: 409 });
    throw err;
  }
});

export const DELETE: RequestHandler = inArea('ivr', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const deleted = await deleteIvrMenu((await getRuntime()).db, actorOf(event), caller(event).account.id, event.params.id);
  return deleted ? new Response(null, { status: 204 }) : notFound();
});
