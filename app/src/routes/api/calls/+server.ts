import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { callLogQuery, listCalls } from '#lib/server/call-log.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  const q = callLogQuery.safeParse(Object.fromEntries(event.url.searchParams));
  if (!q.success) return json({ error: 'invalid_query', fields: Object.fromEntries(q.error.issues.map((i) => [i.path.join('.'), i.message])) }, { status: 400 });
  return json(await listCalls((await getRuntime()).db, caller(event), q.data));
};
