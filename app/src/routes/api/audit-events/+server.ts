import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readQuery } from '#lib/server/api.ts';
import { auditQuery, listAuditEvents } from '#lib/server/audit-events.ts';
import type { RequestHandler } from './$types';

/** The account's audit trail, searched by period, change, affected item and who made it. */
export const GET: RequestHandler = async (event) => {
  const q = readQuery(event.url, auditQuery);
  if (!q.ok) return q.response;
  return json(await listAuditEvents((await getRuntime()).db, caller(event).account.id, q.data));
};
