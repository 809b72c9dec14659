import { json } from '@sveltejs/kit';
import { DEFAULT_DIRECTORY_SETTINGS } from '@carillon/domain';
import { directoryCandidates, directoryInput, getIvrSettings, IvrError, saveDirectorySettings } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { withIssues } from '#lib/server/ivr/ivr.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** AR-04: the dial-by-name directory's settings, with the people it can list (users' extensions and names). */
export const GET: RequestHandler = inArea('ivr', async (event) => {
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  const [settings, candidates] = await Promise.all([getIvrSettings(rt.db, accountId), directoryCandidates(rt.db, accountId)]);
  return json({ directory: settings.directory ?? DEFAULT_DIRECTORY_SETTINGS, candidates });
});

/** AR-04: which name callers spell and which extensions are searched (null: all); used from the next call on. */
export const PUT: RequestHandler = inArea('ivr', async (event) => {
  const body = await readJson(event.request, directoryInput);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  try {
    const settings = await saveDirectorySettings(rt.db, actorOf(event), accountId, body.data);
    // With the validation issues (IVR-15): a menu key to a directory just switched off is one.
    return json(await withIssues(rt, accountId, { directory: settings.directory ?? DEFAULT_DIRECTORY_SETTINGS, candidates: await directoryCandidates(rt.db, accountId) }));
  } catch (err) {
    // An extension that is not one of this account's users (another account's included): 409 naming it.
    if (err instanceof IvrError) return json({ error: err.code, detail: err.detail }, { status: 409 });
    throw err;
  }
});
