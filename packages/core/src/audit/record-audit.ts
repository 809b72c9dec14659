import { sql, type Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import { redact } from '@carillon/config';

export interface AuditActor {
  userId: string | null;
  ip: string | null;
  /** The API token the change came through, if any. */
  apiTokenId?: string | null;
}

export interface AuditChange {
  accountId: string;
  action: string;
  targetType: string;
  targetId?: string | null;
  before?: unknown;
  after?: unknown;
}

/**
 * Records who changed what, before and after, when (UTC, by the database
 * clock) and from which IP. Values go through the same redaction as logs:
 * the audit trail must never hold a password, PIN or answer.
 */
export async function recordAudit(db: Kysely<Database>, actor: AuditActor, change: AuditChange): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      account_id: change.accountId,
      actor_user_id: actor.userId,
      actor_ip: actor.ip,
      actor_api_token_id: actor.apiTokenId ?? null,
      // Read in the same statement: the role the actor holds as the change is made, kept even if it changes later.
      actor_role: actor.userId
        ? sql<string | null>`(select r.name from users u join roles r on r.id = u.role_id where u.id = ${actor.userId} and u.account_id = ${change.accountId})`
        : null,
      action: change.action,
      target_type: change.targetType,
      target_id: change.targetId ?? null,
      before: change.before === undefined ? null : JSON.stringify(redact(change.before)),
      after: change.after === undefined ? null : JSON.stringify(redact(change.after)),
    })
    .execute();
}

/** The fields of `after` that differ from `before`, with both values: what an audit entry should show. */
export function diffFields<T extends Record<string, unknown>>(
  before: T,
  after: Partial<T>,
): { before: Partial<T>; after: Partial<T> } | null {
  const b: Partial<T> = {};
  const a: Partial<T> = {};
  for (const key of Object.keys(after) as (keyof T)[]) {
    const was = before[key] instanceof Date ? (before[key] as Date).toISOString() : before[key];
    const now = after[key];
    if (JSON.stringify(was ?? null) !== JSON.stringify(now ?? null)) {
      b[key] = was as T[keyof T];
      a[key] = now;
    }
  }
  return Object.keys(a).length ? { before: b, after: a } : null;
}
