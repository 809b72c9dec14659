import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { listAuditEvents } from '#lib/server/audit-events.ts';
import type { RequestHandler } from './$types';

const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  action: z.string().max(100).optional(),
});

export const GET: RequestHandler = async (event) => {
  const q = auditQuery.safeParse(Object.fromEntries(event.url.searchParams));
  if (!q.success) return json({ error: 'invalid_query' }, { status: 400 });
  return json(await listAuditEvents((await getRuntime()).db, caller(event).account.id, q.data));
};
