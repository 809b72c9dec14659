import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { deleteSharedLine, loadSharedLine, SharedLineError, updateSharedLine } from '@carillon/core';
import { sharedLineUpdate } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { sharedLineRefusal } from '../shared-line-errors.ts';
import type { RequestHandler } from './$types';

const lineId = z.uuid();
const notFound = () => json({ error: 'not_found' }, { status: 404 });

/** A shared line of the account (another account's is not found). */
export const GET: RequestHandler = inArea('shared_lines', async (event) => {
  const id = lineId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const line = await loadSharedLine(rt.db, caller(event).account.id, id.data);
  return line ? json({ line }) : notFound();
});

/** SL-03…SL-09: edits the line; a field left out is kept, the devices given replace the list, the settings given replace them whole. */
export const PATCH: RequestHandler = inArea('shared_lines', async (event) => {
  const id = lineId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  // Another account's line is not found, whatever the body says.
  if (!(await loadSharedLine(rt.db, accountId, id.data))) return notFound();
  const body = await readJson(event.request, sharedLineUpdate);
  if (!body.ok) return body.response;
  try {
    const line = await updateSharedLine(rt.db, actorOf(event), accountId, id.data, body.data);
    return line ? json({ line }) : notFound();
  } catch (err) {
    if (err instanceof SharedLineError) return sharedLineRefusal(err);
    throw err;
  }
});

export const DELETE: RequestHandler = inArea('shared_lines', async (event) => {
  const id = lineId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  if (!(await deleteSharedLine(rt.db, actorOf(event), caller(event).account.id, id.data))) return notFound();
  return new Response(null, { status: 204 });
});
