import type { Db } from '@carillon/db';
import { sql } from '@carillon/db';

export interface AuditQuery {
  limit?: number;
  before?: string | undefined;
  action?: string | undefined;
}

/** One account's audit trail, newest first, with the actor's name. */
export function listAuditEvents(db: Db, accountId: string, q: AuditQuery = {}) {
  let query = db
    .selectFrom('audit_events')
    .leftJoin('users', (j) => j.onRef('users.id', '=', 'audit_events.actor_user_id').on('users.account_id', '=', accountId))
    .select([
      'audit_events.id',
      'audit_events.action',
      'audit_events.target_type as targetType',
      'audit_events.target_id as targetId',
      'audit_events.before',
      'audit_events.after',
      'audit_events.actor_ip as actorIp',
      'audit_events.occurred_at as occurredAt',
      sql<string | null>`nullif(trim(concat(users.first_name, ' ', users.last_name)), '')`.as('actorName'),
    ])
    .where('audit_events.account_id', '=', accountId)
    .orderBy('audit_events.occurred_at', 'desc')
    .orderBy('audit_events.id', 'desc')
    .limit(Math.min(q.limit ?? 100, 500));
  if (q.action) query = query.where('audit_events.action', 'like', `${q.action.replace(/[%_]/g, '')}%`);
  return query.execute();
}
