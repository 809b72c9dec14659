import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { createSite, listSites, siteInput, SiteError } from '#lib/server/sites/sites.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => json(await listSites((await getRuntime()).db, caller(event).account.id));

export const POST: RequestHandler = async (event) => {
  const body = await readJson(event.request, siteInput);
  if (!body.ok) return body.response;
  try {
    return json(await createSite((await getRuntime()).db, actorOf(event), caller(event).account.id, body.data), { status: 201 });
  } catch (err) {
    if (err instanceof SiteError) return json({ error: err.code, conflicts: err.conflicts }, { status: 409 });
    throw err;
  }
};
