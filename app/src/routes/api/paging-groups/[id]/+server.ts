import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { deletePagingGroup, loadPagingGroup, PagingGroupError, updatePagingGroup } from '@carillon/core';
import { pagingGroupUpdate } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { pagingGroupRefusal } from '../paging-group-errors.ts';
import type { RequestHandler } from './$types';

const groupId = z.string().uuid();
const notFound = () => json({ error: 'not_found' }, { status: 404 });

/** A paging group of the account (another account's is not found). */
export const GET: RequestHandler = inArea('paging', async (event) => {
  const id = groupId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const group = await loadPagingGroup(rt.db, caller(event).account.id, id.data);
  return group ? json({ group }) : notFound();
});

/** PG-03: edits the number, name, status, receiving devices or users allowed to page; a list given replaces the stored one. */
export const PATCH: RequestHandler = inArea('paging', async (event) => {
  const id = groupId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  // Another account's group is not found, whatever the body says.
  if (!(await loadPagingGroup(rt.db, accountId, id.data))) return notFound();
  const body = await readJson(event.request, pagingGroupUpdate);
  if (!body.ok) return body.response;
  try {
    if (!(await updatePagingGroup(rt.db, actorOf(event), accountId, id.data, body.data))) return notFound();
  } catch (err) {
    if (err instanceof PagingGroupError) return pagingGroupRefusal(err);
    throw err;
  }
  return json({ group: await loadPagingGroup(rt.db, accountId, id.data) });
});

/** PG-03 "Delete Group". */
export const DELETE: RequestHandler = inArea('paging', async (event) => {
  const id = groupId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  if (!(await deletePagingGroup(rt.db, actorOf(event), caller(event).account.id, id.data))) return notFound();
  return new Response(null, { status: 204 });
});
