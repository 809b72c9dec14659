import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { getBulkEdit } from '#lib/server/users/bulk-edit/bulk-edit.ts';
import type { RequestHandler } from './$types';

/** GET /api/users/bulk-edit/{id}: the report of an upload (404 once expired). */
export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const edit = await getBulkEdit((await getRuntime()).db, caller(event), event.params.id);
  return edit ? json(edit) : notFound();
};
