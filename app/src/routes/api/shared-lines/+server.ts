import { json } from '@sveltejs/kit';
import { createSharedLine, listSharedLines, SharedLineError } from '@carillon/core';
import { newSharedLineInput, sharedLineListQuery } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson, readQuery } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { sharedLineRefusal } from './shared-line-errors.ts';
import type { RequestHandler } from './$types';

/** SL-02 "Shared Lines" list, filtered by site with `?siteId=` (a malformed one is 400; another account's lists nothing). */
export const GET: RequestHandler = inArea('shared_lines', async (event) => {
  const query = readQuery(event.url, sharedLineListQuery);
  if (!query.ok) return query.response;
  const rt = await getRuntime();
  return json({ lines: await listSharedLines(rt.db, caller(event).account.id, query.data.siteId ? { siteId: query.data.siteId } : {}) });
});

/** SL-02 "+ New Shared Line": a new extension of type 'shared_lines' with its devices in order. */
export const POST: RequestHandler = inArea('shared_lines', async (event) => {
  const body = await readJson(event.request, newSharedLineInput);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  try {
    return json({ line: await createSharedLine(rt.db, actorOf(event), caller(event).account.id, body.data) }, { status: 201 });
  } catch (err) {
    if (err instanceof SharedLineError) return sharedLineRefusal(err);
    throw err;
  }
});
