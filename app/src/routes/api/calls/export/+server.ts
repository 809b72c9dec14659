import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { callLogCsv, callLogQuery, listCalls } from '#lib/server/call-log.ts';
import type { RequestHandler } from './$types';

/** The filtered call log as CSV: the same query, the same rows, as /api/calls. */
export const GET: RequestHandler = async (event) => {
  const q = callLogQuery.safeParse(Object.fromEntries(event.url.searchParams));
  if (!q.success) return json({ error: 'invalid_query', fields: Object.fromEntries(q.error.issues.map((i) => [i.path.join('.'), i.message])) }, { status: 400 });
  const rows = await listCalls((await getRuntime()).db, caller(event), q.data);
  return new Response(callLogCsv(rows), {
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="call-log.csv"', 'cache-control': 'no-store' },
  });
};
