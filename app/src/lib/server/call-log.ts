import { z } from 'zod';
import type { AuthenticatedSession } from '@carillon/core';
import type { Db } from '@carillon/db';

/** Filters of the call log (seed 000 "Rapports du journal des appels"): dates, direction, result. */
export const callLogQuery = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  direction: z.enum(['internal', 'inbound', 'outbound']).optional(),
  result: z.string().regex(/^[a-z_]+$/).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/**
 * The calls a user may see: the whole company's with the company call log
 * permission (Manager and up), otherwise only those of their own extension.
 */
function scoped(db: Db, auth: AuthenticatedSession) {
  let q = db.selectFrom('calls').where('calls.account_id', '=', auth.account.id);
  if (!auth.permissions.has('reports.company_call_log')) {
    const ext = auth.user.extension_id;
    q = q.where((eb) => eb.or([eb('calls.caller_extension_id', '=', ext), eb('calls.callee_extension_id', '=', ext)]));
  }
  return q;
}

export async function listCalls(db: Db, auth: AuthenticatedSession, f: z.output<typeof callLogQuery>) {
  let q = scoped(db, auth).selectAll('calls');
  if (f.from) q = q.where('calls.started_at', '>=', new Date(f.from));
  if (f.to) q = q.where('calls.started_at', '<', new Date(f.to));
  if (f.direction) q = q.where('calls.direction', '=', f.direction);
  if (f.result) q = q.where('calls.result', '=', f.result as never);
  return q.orderBy('calls.started_at', 'desc').limit(f.limit).execute();
}

export async function getCall(db: Db, auth: AuthenticatedSession, id: string) {
  const call = await scoped(db, auth).selectAll('calls').where('calls.id', '=', id).executeTakeFirst();
  if (!call) return null;
  const legs = await db.selectFrom('call_legs').selectAll().where('account_id', '=', auth.account.id).where('call_id', '=', id).orderBy('started_at').execute();
  return { ...call, legs };
}
