import { z } from 'zod';
import type { AuthenticatedSession } from '@carillon/core';
import { sql, type Db } from '@carillon/db';
import { extensionInScope, userScopeOf } from './users/scope.ts';

/** Filters of the call log (seed 000 "Rapports du journal des appels"): dates, direction, result. */
export const callLogQuery = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  direction: z.enum(['internal', 'inbound', 'outbound']).optional(),
  result: z.string().regex(/^[a-z_]+$/).optional(),
  /** Only calls with a recording. */
  recorded: z.enum(['yes']).optional(),
  /** "mine": the user's own extension even for someone who may see the company's log. */
  scope: z.enum(['mine', 'company']).default('company'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** A call log form's values (dates as yyyy-mm-dd, in UTC) turned into the API's query. */
export function callLogFilters(params: URLSearchParams, scope: 'mine' | 'company') {
  const day = (v: string | null, end: boolean) => (v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T00:00:00Z`).getTime() + (end ? 86_400_000 : 0) : null);
  const from = day(params.get('from'), false);
  const to = day(params.get('to'), true);
  return callLogQuery.safeParse({
    ...(from !== null ? { from: new Date(from).toISOString() } : {}),
    ...(to !== null ? { to: new Date(to).toISOString() } : {}),
    ...(params.get('direction') ? { direction: params.get('direction') } : {}),
    ...(params.get('result') ? { result: params.get('result') } : {}),
    ...(params.get('recorded') ? { recorded: params.get('recorded') } : {}),
    scope,
    limit: 1000,
  });
}

/**
 * The calls a user may see: the whole company's with the company call log
 * permission (Manager and up), otherwise only those of their own extension.
 */
async function scoped(db: Db, auth: AuthenticatedSession, scope: 'mine' | 'company' = 'company') {
  let q = db.selectFrom('calls').where('calls.account_id', '=', auth.account.id);
  if (scope === 'mine' || !auth.permissions.has('reports.company_call_log')) {
    const ext = auth.user.extension_id;
    return q.where((eb) => eb.or([eb('calls.caller_extension_id', '=', ext), eb('calls.callee_extension_id', '=', ext)]));
  }
  // A site-scoped role or a group manager sees the calls of the users they administer (seed 000 "Groupes d'utilisateurs").
  const userScope = await userScopeOf(db, auth);
  const from = extensionInScope(userScope, auth.account.id, sql.ref('calls.caller_extension_id'));
  const to = extensionInScope(userScope, auth.account.id, sql.ref('calls.callee_extension_id'));
  if (from && to) q = q.where((eb) => eb.or([from, to]));
  return q;
}

export async function listCalls(db: Db, auth: AuthenticatedSession, f: z.output<typeof callLogQuery>) {
  let q = (await scoped(db, auth, f.scope))
    .selectAll('calls')
    .select((eb) => eb.selectFrom('recordings').select('recordings.id').whereRef('recordings.call_id', '=', 'calls.id').where('recordings.account_id', '=', auth.account.id).limit(1).as('recording_id'));
  if (f.from) q = q.where('calls.started_at', '>=', new Date(f.from));
  if (f.to) q = q.where('calls.started_at', '<', new Date(f.to));
  if (f.direction) q = q.where('calls.direction', '=', f.direction);
  if (f.result) q = q.where('calls.result', '=', f.result as never);
  if (f.recorded) q = q.where((eb) => eb.exists(eb.selectFrom('recordings').select('recordings.id').whereRef('recordings.call_id', '=', 'calls.id')));
  return q.orderBy('calls.started_at', 'desc').limit(f.limit).execute();
}

export type CallLogRow = Awaited<ReturnType<typeof listCalls>>[number];

const CSV_COLUMNS = ['Date', 'Direction', 'From', 'From name', 'To', 'Result', 'Duration (s)', 'Recording'] as const;

/** RFC 4180 CSV of call log rows, exactly those given; a leading =+-@ is neutralised for spreadsheets. */
export function callLogCsv(rows: CallLogRow[]): string {
  const cell = (v: string | number | null) => {
    let s = v === null ? '' : String(v);
    if (/^[=+\-@]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = rows.map((r) =>
    [new Date(r.started_at).toISOString(), r.direction, r.from_number, r.from_name, r.to_number, r.result, r.duration_seconds, r.recording_id ? 'yes' : 'no'].map(cell).join(','),
  );
  return [CSV_COLUMNS.join(','), ...lines].join('\r\n') + '\r\n';
}

/** The recording of a call the user may see, if any. */
export async function callRecording(db: Db, auth: AuthenticatedSession, callId: string) {
  const call = await (await scoped(db, auth)).select('calls.id').where('calls.id', '=', callId).executeTakeFirst();
  if (!call) return null;
  return db.selectFrom('recordings').select(['id', 'storage_path', 'format']).where('account_id', '=', auth.account.id).where('call_id', '=', call.id).orderBy('started_at').executeTakeFirst();
}

export async function getCall(db: Db, auth: AuthenticatedSession, id: string) {
  const call = await (await scoped(db, auth)).selectAll('calls').where('calls.id', '=', id).executeTakeFirst();
  if (!call) return null;
  const legs = await db.selectFrom('call_legs').selectAll().where('account_id', '=', auth.account.id).where('call_id', '=', id).orderBy('started_at').execute();
  return { ...call, legs };
}
