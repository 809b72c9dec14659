import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import { DEFAULT_QUEUE_SETTINGS, QUEUE_MAX_MEMBERS, queueSettings, readQueueSettings, extensionNumber, type QueueSettings } from '@carillon/domain';
import { z } from 'zod';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { announceConfigChange } from '../accounts/config-changes.ts';

/**
 * Call queues in the database (migration 0028): a queue is an extension of type `call_queue` with its
 * `call_queues` row (settings) and its members, users' extensions in the admin's order. Every read and
 * write is scoped to the account; every change is audited and announced (`queues`) once committed, so
 * media-server's next call reads it.
 */

export class QueueError extends Error {
  readonly code: 'not_found' | 'not_a_user' | 'too_many_members' | 'duplicate_member' | 'number_taken' | 'too_many_queues' | 'bad_overflow' | 'pin_required' | 'members_only';
  constructor(code: QueueError['code'], detail?: string) {
    super(detail ? `${code}: ${detail}` : code);
    this.code = code;
  }
}

export interface QueueMemberView {
  extensionId: string;
  number: string;
  position: number;
  accepting: boolean;
}

export interface CallQueueView {
  extensionId: string;
  number: string;
  name: string | null;
  settings: QueueSettings;
  /** In the admin's order. */
  members: QueueMemberView[];
}

/** Queues of one account (a bound on what one account can create). */
export const MAX_CALL_QUEUES = 200;

/** A new queue (CQ-02 step 1): its extension number and group name. */
export const newCallQueueInput = z
  .object({
    number: extensionNumber,
    name: z.string().trim().min(1).max(80),
    /** "Copy Settings From (Optional)": another queue of the account whose settings the new one starts with (not its members or managers). */
    copyFrom: z.string().uuid().optional(),
  })
  .strict();
export type NewCallQueueInput = z.infer<typeof newCallQueueInput>;

/** The whole queue as an admin saves it: settings, and members by extension number in order. */
export const callQueueInput = z
  .object({
    settings: queueSettings,
    members: z.array(z.object({ extension: extensionNumber, accepting: z.boolean().default(true) }).strict()).max(QUEUE_MAX_MEMBERS),
  })
  .strict();
export type CallQueueInput = z.infer<typeof callQueueInput>;

/** A queue of the account, with its members; null when the extension is not a queue of this account. Settings default when none are saved. */
export async function loadCallQueue(db: Kysely<Database>, accountId: string, queueExtensionId: string): Promise<CallQueueView | null> {
  const ext = await db
    .selectFrom('extensions')
    .leftJoin('call_queues', 'call_queues.extension_id', 'extensions.id')
    .select(['extensions.id', 'extensions.number', 'extensions.name', 'call_queues.settings'])
    .where('extensions.account_id', '=', accountId)
    .where('extensions.id', '=', queueExtensionId)
    .where('extensions.type', '=', 'call_queue')
    .executeTakeFirst();
  if (!ext) return null;
  const members = await db
    .selectFrom('call_queue_members')
    .innerJoin('extensions', 'extensions.id', 'call_queue_members.member_extension_id')
    .select(['call_queue_members.member_extension_id', 'extensions.number', 'call_queue_members.position', 'call_queue_members.accepting'])
    .where('call_queue_members.account_id', '=', accountId)
    .where('call_queue_members.queue_extension_id', '=', queueExtensionId)
    .orderBy('call_queue_members.position')
    .limit(QUEUE_MAX_MEMBERS)
    .execute();
  return {
    extensionId: ext.id,
    number: ext.number,
    name: ext.name,
    settings: readQueueSettings(ext.settings),
    members: members.map((m) => ({ extensionId: m.member_extension_id, number: m.number, position: m.position, accepting: m.accepting })),
  };
}

/**
 * Saves a queue's settings and members (replacing the members: the list is its order). Members must be
 * user extensions of the account (a queue offers calls to people). Audited with before and after.
 */
export async function saveCallQueue(db: Kysely<Database>, actor: AuditActor, accountId: string, queueExtensionId: string, input: CallQueueInput): Promise<CallQueueView> {
  const parsed = callQueueInput.parse(input);
  const numbers = parsed.members.map((m) => m.extension);
  if (new Set(numbers).size !== numbers.length) throw new QueueError('duplicate_member');
  const view = await db.transaction().execute(async (trx) => {
    const before = await loadCallQueue(trx, accountId, queueExtensionId);
    if (!before) throw new QueueError('not_found');
    const users = numbers.length
      ? await trx.selectFrom('extensions').select(['id', 'number', 'type']).where('account_id', '=', accountId).where('number', 'in', numbers).execute()
      : [];
    const byNumber = new Map(users.map((u) => [u.number, u]));
    for (const n of numbers) {
      const ext = byNumber.get(n);
      if (!ext || ext.type !== 'user') throw new QueueError('not_a_user', n);
    }
    // CQ-06: overflow to other queues of the account, never to itself.
    const overflow = parsed.settings.overflow;
    if (overflow.length) {
      const targets = await trx.selectFrom('extensions').select(['id', 'number']).where('account_id', '=', accountId).where('type', '=', 'call_queue').where('number', 'in', overflow).execute();
      for (const n of overflow) {
        const target = targets.find((t) => t.number === n);
        if (!target || target.id === queueExtensionId) throw new QueueError('bad_overflow', n);
      }
    }
    await trx
      .insertInto('call_queues')
      .values({ extension_id: queueExtensionId, account_id: accountId, settings: JSON.stringify(parsed.settings), manager_pin_hash: null })
      .onConflict((c) => c.column('extension_id').doUpdateSet({ settings: JSON.stringify(parsed.settings), updated_at: new Date() }))
      .execute();
    await trx.deleteFrom('call_queue_members').where('account_id', '=', accountId).where('queue_extension_id', '=', queueExtensionId).execute();
    if (parsed.members.length) {
      await trx
        .insertInto('call_queue_members')
        .values(parsed.members.map((m, position) => ({ queue_extension_id: queueExtensionId, member_extension_id: byNumber.get(m.extension)!.id, account_id: accountId, position, accepting: m.accepting })))
        .execute();
    }
    const after = (await loadCallQueue(trx, accountId, queueExtensionId))!;
    await recordAudit(trx, actor, { accountId, action: 'call_queue.updated', targetType: 'call_queue', targetId: queueExtensionId, before: auditView(before), after: auditView(after) });
    return after;
  });
  await announceConfigChange(accountId, 'queues');
  return view;
}

/**
 * A member's "accepting queue calls" for one queue (the agent's log-in), or for every queue of the
 * account it belongs to (`queueExtensionId` null). Returns how many memberships changed.
 */
export async function setQueueMemberAccepting(db: Kysely<Database>, actor: AuditActor, accountId: string, memberExtensionId: string, queueExtensionId: string | null, accepting: boolean): Promise<number> {
  const changed = await db.transaction().execute(async (trx) => {
    let q = trx.updateTable('call_queue_members').set({ accepting }).where('account_id', '=', accountId).where('member_extension_id', '=', memberExtensionId).where('accepting', '=', !accepting);
    if (queueExtensionId) q = q.where('queue_extension_id', '=', queueExtensionId);
    const rows = await q.returning('queue_extension_id').execute();
    if (rows.length) {
      await recordAudit(trx, actor, {
        accountId,
        action: accepting ? 'call_queue.member_accepting' : 'call_queue.member_not_accepting',
        targetType: 'extension',
        targetId: memberExtensionId,
        after: { accepting, queues: rows.map((r) => r.queue_extension_id) },
      });
    }
    return rows.length;
  });
  if (changed) await announceConfigChange(accountId, 'queues');
  return changed;
}

const auditView = (q: CallQueueView) => ({ settings: q.settings, members: q.members.map((m) => ({ extension: m.number, accepting: m.accepting })) });

/** The account's queues, by extension number. */
export async function listCallQueues(db: Kysely<Database>, accountId: string): Promise<CallQueueView[]> {
  const exts = await db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('type', '=', 'call_queue').orderBy('number').limit(MAX_CALL_QUEUES).execute();
  const queues = await Promise.all(exts.map((e) => loadCallQueue(db, accountId, e.id)));
  return queues.filter((q): q is CallQueueView => q !== null);
}

/**
 * CQ-02 step 1: a new queue is a new extension (its number free in the account) with the default
 * settings, or those of the queue it copies, and no members yet. A queue to copy that is not one of
 * the account's is 'not_found'.
 */
export async function createCallQueue(db: Kysely<Database>, actor: AuditActor, accountId: string, input: NewCallQueueInput): Promise<CallQueueView> {
  const parsed = newCallQueueInput.parse(input);
  const view = await db.transaction().execute(async (trx) => {
    const taken = await trx.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('number', '=', parsed.number).executeTakeFirst();
    if (taken) throw new QueueError('number_taken', parsed.number);
    const count = await trx.selectFrom('extensions').select((eb) => eb.fn.countAll<string>().as('n')).where('account_id', '=', accountId).where('type', '=', 'call_queue').executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_CALL_QUEUES) throw new QueueError('too_many_queues', String(MAX_CALL_QUEUES));
    const copied = parsed.copyFrom ? await loadCallQueue(trx, accountId, parsed.copyFrom) : null;
    if (parsed.copyFrom && !copied) throw new QueueError('not_found', 'copyFrom');
    const settings = copied ? copied.settings : DEFAULT_QUEUE_SETTINGS;
    const site = await trx.selectFrom('sites').select('id').where('account_id', '=', accountId).orderBy('is_main', 'desc').orderBy('created_at').executeTakeFirstOrThrow();
    const ext = await trx
      .insertInto('extensions')
      .values({ account_id: accountId, site_id: site.id, number: parsed.number, type: 'call_queue', status: 'activated', name: parsed.name })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.insertInto('call_queues').values({ extension_id: ext.id, account_id: accountId, settings: JSON.stringify(settings), manager_pin_hash: null }).execute();
    const created = (await loadCallQueue(trx, accountId, ext.id))!;
    await recordAudit(trx, actor, { accountId, action: 'call_queue.created', targetType: 'call_queue', targetId: ext.id, after: { number: created.number, name: created.name, copiedFrom: copied?.number ?? null, ...auditView(created) } });
    return created;
  });
  await announceConfigChange(accountId, 'queues', 'extensions');
  return view;
}

/** A queue a user belongs to, as the user sees it (the agent's log-in per queue). */
export interface MemberQueueView {
  queueExtensionId: string;
  number: string;
  name: string | null;
  accepting: boolean;
}

/** The queues a member belongs to, by number, with its "accepting queue calls" in each. */
export async function memberQueues(db: Kysely<Database>, accountId: string, memberExtensionId: string): Promise<MemberQueueView[]> {
  const rows = await db
    .selectFrom('call_queue_members')
    .innerJoin('extensions', 'extensions.id', 'call_queue_members.queue_extension_id')
    .select(['call_queue_members.queue_extension_id', 'extensions.number', 'extensions.name', 'call_queue_members.accepting'])
    .where('call_queue_members.account_id', '=', accountId)
    .where('call_queue_members.member_extension_id', '=', memberExtensionId)
    .orderBy('extensions.number')
    .limit(MAX_CALL_QUEUES)
    .execute();
  return rows.map((r) => ({ queueExtensionId: r.queue_extension_id, number: r.number, name: r.name, accepting: r.accepting }));
}

/** An agent logs in or out: of one queue it belongs to, or of all (`queueId` null). */
export const memberAcceptingInput = z.object({ queueId: z.string().uuid().nullable(), accepting: z.boolean() }).strict();
