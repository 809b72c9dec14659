import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import { checkPin, extensionNumber, failedRules, QUEUE_MAX_MEMBERS, queueSettings } from '@carillon/domain';
import { z } from 'zod';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { announceConfigChange } from '../accounts/config-changes.ts';
import { hashSecret } from '../auth/hashing.ts';
import { loadCallQueue, QueueError, saveCallQueue, type CallQueueView } from './queue-store.ts';

/**
 * Call queue managers (CQ-02 step 2) and the queue's voicemail (CQ-08…CQ-10). Managers are users of
 * the account, each with Full Access (the queue's settings and members) or Members Only (its members
 * alone); a queue with managers has at least one with Full Access, and the managers' PIN ("PIN" and
 * "Reenter PIN", the PIN rules of user credentials) is set with them. Every read and write is scoped to
 * the account and every change audited.
 */

export const QUEUE_MANAGER_PERMISSIONS = ['full', 'members_only'] as const;
export type QueueManagerPermission = (typeof QUEUE_MANAGER_PERMISSIONS)[number];
/** Managers of one queue, at most. */
export const QUEUE_MAX_MANAGERS = 20;

/**
 * The managers as an admin saves them, by the users' extension numbers. The PIN is required the first
 * time (the queue has none yet) and may be left out afterwards to keep it.
 */
export const queueManagersInput = z
  .object({
    pin: z.string().max(20).optional(),
    pinConfirm: z.string().max(20).optional(),
    managers: z
      .array(z.object({ extension: extensionNumber, permission: z.enum(QUEUE_MANAGER_PERMISSIONS) }).strict())
      .min(1)
      .max(QUEUE_MAX_MANAGERS),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.managers.some((m) => m.permission === 'full')) ctx.addIssue({ code: 'custom', path: ['managers'], message: 'at least one manager needs Full Access' });
    const numbers = v.managers.map((m) => m.extension);
    if (new Set(numbers).size !== numbers.length) ctx.addIssue({ code: 'custom', path: ['managers'], message: 'each manager once' });
    if (v.pin !== undefined || v.pinConfirm !== undefined) {
      const failed = failedRules(checkPin(v.pin ?? ''));
      if (failed.length) ctx.addIssue({ code: 'custom', path: ['pin'], message: `PIN rules not met: ${failed.join(', ')}` });
      if (v.pin !== v.pinConfirm) ctx.addIssue({ code: 'custom', path: ['pinConfirm'], message: 'the PINs do not match' });
    }
  });
export type QueueManagersInput = z.infer<typeof queueManagersInput>;

export interface QueueManagerView {
  userId: string;
  extension: string | null;
  name: string;
  permission: QueueManagerPermission;
}

export interface QueueManagersView {
  managers: QueueManagerView[];
  /** Whether the managers' PIN is set (never the PIN itself). */
  pinSet: boolean;
}

/** A queue's managers; null when the extension is not a queue of the account. */
export async function loadQueueManagers(db: Kysely<Database>, accountId: string, queueExtensionId: string): Promise<QueueManagersView | null> {
  const queue = await db
    .selectFrom('call_queues')
    .select('manager_pin_hash')
    .where('account_id', '=', accountId)
    .where('extension_id', '=', queueExtensionId)
    .executeTakeFirst();
  if (!queue) return null;
  const rows = await db
    .selectFrom('call_queue_managers as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .leftJoin('extensions as e', 'e.id', 'u.extension_id')
    .select(['m.user_id', 'm.permission', 'u.first_name', 'u.last_name', 'e.number'])
    .where('m.account_id', '=', accountId)
    .where('m.queue_extension_id', '=', queueExtensionId)
    .orderBy('e.number')
    .limit(QUEUE_MAX_MANAGERS)
    .execute();
  return {
    pinSet: queue.manager_pin_hash !== null,
    managers: rows.map((r) => ({ userId: r.user_id, extension: r.number, name: [r.first_name, r.last_name].filter(Boolean).join(' '), permission: r.permission })),
  };
}

/** Replaces a queue's managers (and its PIN when given). Audited, the PIN never written in the trail. */
export async function saveQueueManagers(db: Kysely<Database>, actor: AuditActor, accountId: string, queueExtensionId: string, input: QueueManagersInput): Promise<QueueManagersView> {
  const parsed = queueManagersInput.parse(input);
  const pinHash = parsed.pin !== undefined ? await hashSecret(parsed.pin) : null;
  const saved = await db.transaction().execute(async (trx) => {
    const before = await loadQueueManagers(trx, accountId, queueExtensionId);
    if (!before) throw new QueueError('not_found');
    if (!before.pinSet && pinHash === null) throw new QueueError('pin_required');
    const numbers = parsed.managers.map((m) => m.extension);
    const users = await trx
      .selectFrom('users')
      .innerJoin('extensions', 'extensions.id', 'users.extension_id')
      .select(['users.id', 'extensions.number'])
      .where('users.account_id', '=', accountId)
      .where('extensions.account_id', '=', accountId)
      .where('extensions.number', 'in', numbers)
      .execute();
    const byNumber = new Map(users.map((u) => [u.number, u.id]));
    for (const n of numbers) if (!byNumber.has(n)) throw new QueueError('not_a_user', n);
    if (pinHash !== null) await trx.updateTable('call_queues').set({ manager_pin_hash: pinHash, updated_at: new Date() }).where('account_id', '=', accountId).where('extension_id', '=', queueExtensionId).execute();
    await trx.deleteFrom('call_queue_managers').where('account_id', '=', accountId).where('queue_extension_id', '=', queueExtensionId).execute();
    await trx
      .insertInto('call_queue_managers')
      .values(parsed.managers.map((m) => ({ queue_extension_id: queueExtensionId, user_id: byNumber.get(m.extension)!, account_id: accountId, permission: m.permission })))
      .execute();
    const after = (await loadQueueManagers(trx, accountId, queueExtensionId))!;
    const trail = (v: QueueManagersView) => v.managers.map((m) => ({ extension: m.extension, permission: m.permission }));
    await recordAudit(trx, actor, {
      accountId,
      action: 'call_queue.managers_updated',
      targetType: 'call_queue',
      targetId: queueExtensionId,
      before: { managers: trail(before) },
      after: { managers: trail(after), pinChanged: pinHash !== null },
    });
    return after;
  });
  // Once committed: the app's supervisor views drop the queues of a manager removed.
  await announceConfigChange(accountId, 'queues');
  return saved;
}

/** A queue a user manages, as that user sees it. */
export interface ManagedQueueView {
  queueExtensionId: string;
  number: string;
  name: string | null;
  permission: QueueManagerPermission;
}

/** The queues a user manages, by number. */
export async function managedQueues(db: Kysely<Database>, accountId: string, userId: string): Promise<ManagedQueueView[]> {
  const rows = await db
    .selectFrom('call_queue_managers as m')
    .innerJoin('extensions as e', 'e.id', 'm.queue_extension_id')
    .select(['m.queue_extension_id', 'e.number', 'e.name', 'm.permission'])
    .where('m.account_id', '=', accountId)
    .where('e.account_id', '=', accountId)
    .where('m.user_id', '=', userId)
    .orderBy('e.number')
    .limit(200)
    .execute();
  return rows.map((r) => ({ queueExtensionId: r.queue_extension_id, number: r.number, name: r.name, permission: r.permission }));
}

/**
 * What a manager saves: the members in order, and the settings only with Full Access. Settings left
 * out are kept as they are.
 */
export const managedQueueInput = z
  .object({
    settings: queueSettings.optional(),
    members: z.array(z.object({ extension: extensionNumber, accepting: z.boolean().default(true) }).strict()).max(QUEUE_MAX_MEMBERS),
  })
  .strict();
export type ManagedQueueInput = z.infer<typeof managedQueueInput>;

/**
 * A manager saves a queue they manage: Full Access saves settings and members, Members Only the members
 * alone (settings in the body: 'members_only'). Not a manager of this queue of the account: 'not_found'.
 */
export async function saveManagedQueue(db: Kysely<Database>, actor: AuditActor, accountId: string, userId: string, queueExtensionId: string, input: ManagedQueueInput): Promise<CallQueueView> {
  const parsed = managedQueueInput.parse(input);
  const role = await db
    .selectFrom('call_queue_managers')
    .select('permission')
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .where('queue_extension_id', '=', queueExtensionId)
    .executeTakeFirst();
  if (!role) throw new QueueError('not_found');
  if (parsed.settings && role.permission !== 'full') throw new QueueError('members_only');
  const current = await loadCallQueue(db, accountId, queueExtensionId);
  if (!current) throw new QueueError('not_found');
  return saveCallQueue(db, actor, accountId, queueExtensionId, { settings: parsed.settings ?? current.settings, members: parsed.members });
}

/** CQ-08…CQ-10: who receives the queue's messages (null: the queue itself, "This call queue") and whether they are transcribed. */
export const queueVoicemailInput = z.object({ recipient: extensionNumber.nullable(), transcribe: z.boolean() }).strict();
export type QueueVoicemailInput = z.infer<typeof queueVoicemailInput>;

export interface QueueVoicemailView {
  /** The recipient's extension number; null for the queue itself. */
  recipient: string | null;
  transcribe: boolean;
}

/**
 * The queue's mailbox settings, in the row every mailbox uses (`voicemail_settings`: the deposit reads
 * `transcribe` there, and the web inbox shows a mailbox to its recipient). Null when not a queue of the account.
 */
export async function loadQueueVoicemail(db: Kysely<Database>, accountId: string, queueExtensionId: string): Promise<QueueVoicemailView | null> {
  const queue = await db.selectFrom('call_queues').select('extension_id').where('account_id', '=', accountId).where('extension_id', '=', queueExtensionId).executeTakeFirst();
  if (!queue) return null;
  const row = await db
    .selectFrom('voicemail_settings as s')
    .leftJoin('extensions as r', (j) => j.onRef('r.id', '=', 's.recipient_extension_id').on('r.account_id', '=', accountId))
    .select(['s.transcribe', 'r.number'])
    .where('s.account_id', '=', accountId)
    .where('s.extension_id', '=', queueExtensionId)
    .executeTakeFirst();
  // No row: the deposit's defaults (the queue's own mailbox, transcribed).
  return { recipient: row?.number ?? null, transcribe: row?.transcribe ?? true };
}

/** Saves the queue's message recipient (a user's extension of the account, or the queue) and voicemail-to-text; audited. */
export async function saveQueueVoicemail(db: Kysely<Database>, actor: AuditActor, accountId: string, queueExtensionId: string, input: QueueVoicemailInput): Promise<QueueVoicemailView> {
  const parsed = queueVoicemailInput.parse(input);
  const view = await db.transaction().execute(async (trx) => {
    const before = await loadQueueVoicemail(trx, accountId, queueExtensionId);
    if (!before) throw new QueueError('not_found');
    let recipientId: string | null = null;
    if (parsed.recipient !== null) {
      const ext = await trx.selectFrom('extensions').select(['id', 'type']).where('account_id', '=', accountId).where('number', '=', parsed.recipient).executeTakeFirst();
      if (ext?.id === queueExtensionId) recipientId = null;
      else if (!ext || ext.type !== 'user') throw new QueueError('not_a_user', parsed.recipient);
      else recipientId = ext.id;
    }
    await trx
      .insertInto('voicemail_settings')
      .values({ extension_id: queueExtensionId, account_id: accountId, recipient_extension_id: recipientId, transcribe: parsed.transcribe, greeting_path: null, updated_at: new Date() })
      .onConflict((c) => c.column('extension_id').doUpdateSet({ recipient_extension_id: recipientId, transcribe: parsed.transcribe, updated_at: new Date() }))
      .execute();
    const after = (await loadQueueVoicemail(trx, accountId, queueExtensionId))!;
    await recordAudit(trx, actor, { accountId, action: 'call_queue.voicemail_updated', targetType: 'call_queue', targetId: queueExtensionId, before: { ...before }, after: { ...after } });
    return after;
  });
  await announceConfigChange(accountId, 'queues');
  return view;
}
