import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readQuery } from '#lib/server/api.ts';
import { callLogQuery, listCalls } from '#lib/server/call-log.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  const q = readQuery(event.url, callLogQuery);
  if (!q.ok) return q.response;
  return json(await listCalls((await getRuntime()).db, caller(event), q.data));
};
