import { json } from '@sveltejs/kit';
import { createPagingGroup, listPagingGroups, loadPagingGroup, PagingGroupError } from '@carillon/core';
import { pagingGroupInput } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { pagingGroupRefusal } from './paging-group-errors.ts';
import type { RequestHandler } from './$types';

/** PG-03: the account's paging-only groups, with their receiving devices and the users allowed to page. */
export const GET: RequestHandler = inArea('paging', async (event) => {
  const rt = await getRuntime();
  return json({ groups: await listPagingGroups(rt.db, caller(event).account.id) });
});

/** PG-02: a new paging group (a new extension of type 'paging'). */
export const POST: RequestHandler = inArea('paging', async (event) => {
  const body = await readJson(event.request, pagingGroupInput);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  try {
    const id = await createPagingGroup(rt.db, actorOf(event), accountId, body.data);
    return json({ group: await loadPagingGroup(rt.db, accountId, id) }, { status: 201 });
  } catch (err) {
    if (err instanceof PagingGroupError) return pagingGroupRefusal(err);
    throw err;
  }
});
