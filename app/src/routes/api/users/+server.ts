import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readQuery } from '#lib/server/api.ts';
import { listUsersPage, usersListQuery } from '#lib/server/users/list.ts';
import type { RequestHandler } from './$types';

/** GET /api/users?q=&status=&role=&department=&site=&sort=&order=&limit=&offset= → { items, total, limit, offset } */
export const GET: RequestHandler = async (event) => {
  const q = readQuery(event.url, usersListQuery);
  if (!q.ok) return q.response;
  return json(await listUsersPage((await getRuntime()).db, caller(event), q.data));
};
