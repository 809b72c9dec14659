import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readQuery } from '#lib/server/api.ts';
import { callLogCsv, callLogQuery, listCalls } from '#lib/server/call-log.ts';
import type { RequestHandler } from './$types';

/** The filtered call log as CSV: the same query, the same rows, as /api/calls. */
export const GET: RequestHandler = async (event) => {
  const q = readQuery(event.url, callLogQuery);
  if (!q.ok) return q.response;
  const rows = await listCalls((await getRuntime()).db, caller(event), q.data);
  return new Response(callLogCsv(rows), {
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="call-log.csv"', 'cache-control': 'no-store' },
  });
};
