import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readQuery } from '#lib/server/api.ts';
import { listUnassignedExtensions, unassignedQuery } from '#lib/server/users/unassigned-extensions.ts';
import { userScopeOf } from '#lib/server/users/scope.ts';
import type { RequestHandler } from './$types';

/** GET /api/extensions/unassigned?q=&site= → the account's user extensions that no user holds. */
export const GET: RequestHandler = async (event) => {
  const q = readQuery(event.url, unassignedQuery);
  if (!q.ok) return q.response;
  const db = (await getRuntime()).db;
  return json(await listUnassignedExtensions(db, caller(event).account.id, q.data, await userScopeOf(db, caller(event))));
};
