import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { listAuditEvents } from '#lib/server/audit-events.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => ({
  events: (await listAuditEvents((await getRuntime()).db, caller(event).account.id, { limit: 200 })).map((e) => ({
    ...e,
    occurredAt: new Date(e.occurredAt).toISOString(),
  })),
});
