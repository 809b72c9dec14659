import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import { readQueueSettings, type QueueNotifications } from '@carillon/domain';

/**
 * CQ-11: who a queue's notification e-mails go to. The workers' voicemail and missed-call e-mails read
 * this for a message in a queue's mailbox and for a queue call nobody of the queue answered, next to
 * the users' own notifications (one e-mail path: the same jobs, the same `email` queue).
 */

/** The addresses a queue e-mails for one event, with the account's language and clock the e-mail is written in. */
export interface QueueNotificationTarget {
  queueExtensionId: string;
  queueNumber: string;
  queueName: string | null;
  addresses: string[];
  /** The voicemail's audio attached (voicemail only). */
  attachment: boolean;
  language: 'en' | 'fr';
  timeZone: string;
  timeFormat: string;
}

/**
 * Where the queue's e-mail for `event` goes: the event's own address (Advanced Settings), else the
 * queue's "Send Notifications to", else its Full Access managers' notification addresses (their
 * notification e-mail, else their e-mail). Null when the extension is no queue of the account, the
 * event is not e-mailed, or there is nobody to send it to.
 */
export async function queueNotificationTarget(db: Kysely<Database>, accountId: string, extensionId: string, event: keyof Omit<QueueNotifications, 'email'>): Promise<QueueNotificationTarget | null> {
  const row = await db
    .selectFrom('call_queues as q')
    .innerJoin('extensions as e', (j) => j.onRef('e.id', '=', 'q.extension_id').onRef('e.account_id', '=', 'q.account_id'))
    .innerJoin('accounts as a', 'a.id', 'q.account_id')
    .select(['q.settings', 'e.number', 'e.name', 'a.language', 'a.time_zone', 'a.time_format'])
    .where('q.account_id', '=', accountId)
    .where('q.extension_id', '=', extensionId)
    .executeTakeFirst();
  if (!row) return null;
  const notifications = readQueueSettings(row.settings).notifications;
  const wanted = notifications[event];
  if (!wanted.email) return null;
  const chosen = wanted.to ?? notifications.email;
  let addresses: string[];
  if (chosen) addresses = [chosen];
  else {
    const managers = await db
      .selectFrom('call_queue_managers as m')
      .innerJoin('users as u', (j) => j.onRef('u.id', '=', 'm.user_id').onRef('u.account_id', '=', 'm.account_id'))
      .select(['u.email', 'u.notification_email'])
      .where('m.account_id', '=', accountId)
      .where('m.queue_extension_id', '=', extensionId)
      .where('m.permission', '=', 'full')
      .orderBy('u.id')
      .execute();
    addresses = [...new Set(managers.map((m) => m.notification_email ?? m.email).filter((a): a is string => !!a))];
  }
  if (addresses.length === 0) return null;
  return {
    queueExtensionId: extensionId,
    queueNumber: row.number,
    queueName: row.name,
    addresses,
    attachment: 'attachment' in wanted ? wanted.attachment : false,
    language: row.language === 'fr' ? 'fr' : 'en',
    timeZone: row.time_zone,
    timeFormat: row.time_format,
  };
}

/**
 * The queue a call was for, when nobody of the queue answered it (CQ-11 "Missed Calls"): the call
 * reached the queue (its callee extension is a queue of the account), has ended, and no phone of a
 * member of the queue, or of one of its overflow queues, answered it. So a caller who hung up while
 * waiting, or who was sent to the queue's mailbox or to another extension by the maximum wait, a full
 * queue or the after-hours action, was missed by the queue; one an agent took was not. Null otherwise.
 */
export async function queueThatMissedCall(db: Kysely<Database>, accountId: string, callId: string): Promise<string | null> {
  const call = await db
    .selectFrom('calls as c')
    .innerJoin('call_queues as q', (j) => j.onRef('q.extension_id', '=', 'c.callee_extension_id').onRef('q.account_id', '=', 'c.account_id'))
    .select(['q.extension_id', 'q.settings'])
    .where('c.id', '=', callId)
    .where('c.account_id', '=', accountId)
    .where('c.ended_at', 'is not', null)
    .executeTakeFirst();
  if (!call) return null;
  const overflow = readQueueSettings(call.settings).overflow;
  const overflowIds = overflow.length
    ? (await db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('type', '=', 'call_queue').where('number', 'in', overflow).execute()).map((e) => e.id)
    : [];
  const answeredByMember = await db
    .selectFrom('call_legs as l')
    .innerJoin('devices as d', (j) => j.onRef('d.id', '=', 'l.device_id').onRef('d.account_id', '=', 'l.account_id'))
    .innerJoin('call_queue_members as m', (j) => j.onRef('m.member_extension_id', '=', 'd.extension_id').onRef('m.account_id', '=', 'l.account_id'))
    .select('l.id')
    .where('l.call_id', '=', callId)
    .where('l.account_id', '=', accountId)
    .where('l.role', 'in', ['callee', 'transfer_target'])
    .where('l.answered_at', 'is not', null)
    .where('m.queue_extension_id', 'in', [call.extension_id, ...overflowIds])
    .executeTakeFirst();
  return answeredByMember ? null : call.extension_id;
}
