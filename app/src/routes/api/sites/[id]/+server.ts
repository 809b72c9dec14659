import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { getSite, sitePatch, SiteError, updateSite } from '#lib/server/sites/sites.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const site = await getSite((await getRuntime()).db, caller(event).account.id, event.params.id);
  return site ? json(site) : notFound();
};

export const PATCH: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const db = (await getRuntime()).db;
  const accountId = caller(event).account.id;
  // Another account's site is not found, whatever the body says.
  if (!(await getSite(db, accountId, event.params.id))) return notFound();
  const body = await readJson(event.request, sitePatch);
  if (!body.ok) return body.response;
  try {
    const site = await updateSite(db, actorOf(event), accountId, event.params.id, body.data);
    return site ? json(site) : notFound();
  } catch (err) {
    if (err instanceof SiteError) return json({ error: err.code, conflicts: err.conflicts }, { status: 409 });
    throw err;
  }
};
