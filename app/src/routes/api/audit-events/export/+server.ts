import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readQuery } from '#lib/server/api.ts';
import { auditEventsCsv, auditQuery, listAuditEvents } from '#lib/server/audit-events.ts';
import type { RequestHandler } from './$types';

/** The audit trail's CSV download, with the same search as the list (up to 500 rows, as shown). */
export const GET: RequestHandler = async (event) => {
  const q = readQuery(event.url, auditQuery);
  if (!q.ok) return q.response;
  const rows = await listAuditEvents((await getRuntime()).db, caller(event).account.id, q.data);
  return new Response(auditEventsCsv(rows), {
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="audit-trail-${new Date().toISOString().slice(0, 10)}.csv"` },
  });
};
