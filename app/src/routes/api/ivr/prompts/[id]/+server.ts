import { json } from '@sveltejs/kit';
import { deletePrompt, PromptError } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** PR-02: a prompt a menu uses is refused (409) with the menus that use it. */
export const DELETE: RequestHandler = inArea('ivr', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const rt = await getRuntime();
  try {
    const deleted = await deletePrompt(rt.db, rt.config.dataDir, actorOf(event), caller(event).account.id, event.params.id);
    return deleted ? new Response(null, { status: 204 }) : notFound();
  } catch (err) {
    if (err instanceof PromptError) return json({ error: err.code, message: err.message, usedIn: err.usedIn }, { status: 409 });
    throw err;
  }
});
