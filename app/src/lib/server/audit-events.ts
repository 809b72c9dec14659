import { z } from 'zod';
import type { Db } from '@carillon/db';
import { sql } from '@carillon/db';

/** Seed 000 "Piste d'audit": the trail looks back 180 days at most. */
export const AUDIT_LOOKBACK_DAYS = 180;
const DAY_MS = 86_400_000;

/**
 * What the audit trail is searched by: a period (from/to, UTC, within the last
 * 180 days), the change (action code prefix, e.g. `user.` or `trunk.updated`),
 * the affected item (its kind or its id) and who made the change.
 */
export const auditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    from: z.coerce.date().optional(),
    to: z.coerce.date().optional(),
    action: z.string().trim().max(100).optional(),
    target: z.string().trim().max(100).optional(),
    actor: z.string().uuid().optional(),
  })
  .strict()
  .superRefine((q, ctx) => {
    const oldest = Date.now() - AUDIT_LOOKBACK_DAYS * DAY_MS - DAY_MS;
    if (q.from && q.from.getTime() < oldest) ctx.addIssue({ code: 'custom', path: ['from'], message: `at most ${AUDIT_LOOKBACK_DAYS} days back` });
    if (q.from && q.to && q.to < q.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'before from' });
  });
export type AuditQuery = z.input<typeof auditQuery>;

const likePrefix = (v: string) => `${v.replace(/[\\%_]/g, (c) => '\\' + c)}%`;

/** One account's audit trail, newest first, with the actor's name and the role they held at the time. */
export function listAuditEvents(db: Db, accountId: string, input: AuditQuery = {}) {
  const q = auditQuery.parse(input);
  const from = q.from ?? new Date(Date.now() - AUDIT_LOOKBACK_DAYS * DAY_MS);
  let query = db
    .selectFrom('audit_events')
    .leftJoin('users', (j) => j.onRef('users.id', '=', 'audit_events.actor_user_id').on('users.account_id', '=', accountId))
    .leftJoin('api_tokens', (j) => j.onRef('api_tokens.id', '=', 'audit_events.actor_api_token_id').on('api_tokens.account_id', '=', accountId))
    .select([
      'audit_events.id',
      'audit_events.action',
      'audit_events.target_type as targetType',
      'audit_events.target_id as targetId',
      'audit_events.before',
      'audit_events.after',
      'audit_events.actor_ip as actorIp',
      'audit_events.occurred_at as occurredAt',
      // The role held when the change was made, written with the event.
      'audit_events.actor_role as actorRole',
      'api_tokens.name as actorApiToken',
      'api_tokens.prefix as actorApiTokenPrefix',
      sql<string | null>`nullif(trim(concat(users.first_name, ' ', users.last_name)), '')`.as('actorName'),
    ])
    .where('audit_events.account_id', '=', accountId)
    .where('audit_events.occurred_at', '>=', from)
    .orderBy('audit_events.occurred_at', 'desc')
    .orderBy('audit_events.id', 'desc')
    .limit(q.limit);
  if (q.to) query = query.where('audit_events.occurred_at', '<=', q.to);
  if (q.action) query = query.where('audit_events.action', 'like', likePrefix(q.action));
  if (q.target) {
    const target = q.target;
    query = query.where((eb) => eb.or([eb('audit_events.target_type', 'like', likePrefix(target)), eb(sql<string>`audit_events.target_id::text`, '=', target)]));
  }
  if (q.actor) query = query.where('audit_events.actor_user_id', '=', q.actor);
  return query.execute();
}

export type AuditEventRow = Awaited<ReturnType<typeof listAuditEvents>>[number];

const CSV_COLUMNS = ['Date/Time (UTC)', 'Changed by', 'Role', 'Change', 'Change made to', 'Item affected', 'Before', 'After', 'Endpoint', 'IP address'];

/** The CSV download: the rows shown, plus role, endpoint and IP, which the seed keeps for the file only. */
export function auditEventsCsv(rows: AuditEventRow[]): string {
  const cell = (v: unknown) => {
    let s = v == null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    // A value starting like a formula must not run in a spreadsheet.
    if (/^[=+\-@]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = rows.map((r) =>
    [new Date(r.occurredAt).toISOString(), r.actorName ?? 'System', r.actorRole, r.action, r.targetType, r.targetId, r.before, r.after, r.actorApiTokenPrefix ? `API token ${r.actorApiTokenPrefix}` : r.actorIp ? 'web' : '', r.actorIp].map(cell).join(','),
  );
  return [CSV_COLUMNS.join(','), ...lines].join('\r\n') + '\r\n';
}
