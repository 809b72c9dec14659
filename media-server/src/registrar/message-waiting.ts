import { sql } from 'kysely';
import type { Db } from '@carillon/db';
import { parseVoicemailEvent } from '@carillon/contracts/voicemail-events';
import { createResponse } from '../sip/message/index.ts';
import { namesDeviceExtension } from './device-authentication.ts';
import { EventNotifier, type EventNotifierDeps, type EventPackage } from './event-notifier.ts';
import { formatMessageSummary, sameCounts, MESSAGE_SUMMARY_EVENT, MESSAGE_SUMMARY_TYPE, type MailboxCounts } from './message-summary.ts';

const EMPTY: MailboxCounts = { newMessages: 0, oldMessages: 0, urgentNew: 0, urgentOld: 0 };

/** A mailbox, by its extension; what a subscription last said of it (null before the first NOTIFY). */
type Mailbox = { extensionId: string };
type LastSent = { counts: MailboxCounts | null };

/**
 * Message-waiting indication (RFC 3842): the message-summary event package. A
 * device subscribes to its own extension's mailbox, or to a mailbox shared with
 * its extension (by that mailbox's number); it gets a NOTIFY at once
 * and whenever the mailbox's counts change, which it learns from the voicemail
 * events on Redis (contracts/voicemail-events.ts). The counts come from the
 * database, never from the event, which only names the mailbox.
 */
export function messageSummaryPackage(db: Db): EventPackage<Mailbox, LastSent> {
  return {
    event: MESSAGE_SUMMARY_EVENT,
    contentType: MESSAGE_SUMMARY_TYPE,
    async resolve(req, device, username) {
      // The resource is the mailbox named by the Request-URI (RFC 6665 §4.1.2): the device's own extension's,
      // or a mailbox shared with it (inventory 2 X-07: its message recipient is the device's extension), so a
      // key of the phone can light for the shared mailbox the user also reads in the web inbox.
      const mailbox = decodeURIComponent(/^sips?:([^@;?]+)@/i.exec(req.uri)?.[1] ?? '');
      if (namesDeviceExtension(mailbox, device, username)) return { resource: { extensionId: device.extensionId }, memo: { counts: null } };
      const shared = /^[0-9]{1,9}$/.test(mailbox) ? await sharedMailbox(db, device.accountId, mailbox, device.extensionId) : undefined;
      if (!shared) return createResponse(req, 403, { reason: 'Not Your Mailbox' });
      return { resource: { extensionId: shared.id }, memo: { counts: null } };
    },
    key: (accountId, mailbox) => `${accountId} ${mailbox.extensionId}`,
    async body(sub, forced) {
      const counts = await mailboxCounts(db, sub.accountId, sub.resource.extensionId);
      if (!forced && sub.memo.counts && sameCounts(sub.memo.counts, counts)) return null;
      sub.memo.counts = counts;
      return formatMessageSummary(counts);
    },
  };
}

export type MessageWaitingNotifier = EventNotifier<Mailbox, LastSent>;

export function createMessageWaitingNotifier(deps: EventNotifierDeps & { db: Db }): MessageWaitingNotifier {
  return new EventNotifier(messageSummaryPackage(deps.db), deps);
}

/** A message on VOICEMAIL_EVENTS_CHANNEL: the subscriptions to that mailbox are told the new counts, if they changed. */
export function onVoicemailEvent(notifier: MessageWaitingNotifier, message: string): void {
  const event = parseVoicemailEvent(message);
  if (event) notifier.changed(event.accountId, { extensionId: event.mailboxExtensionId });
}

/** The extension numbered `number` of the account whose mailbox's message recipient is `readerExtensionId`, if any. */
function sharedMailbox(db: Db, accountId: string, number: string, readerExtensionId: string): Promise<{ id: string } | undefined> {
  return db
    .selectFrom('extensions as e')
    .innerJoin('voicemail_settings as s', (j) => j.onRef('s.extension_id', '=', 'e.id').onRef('s.account_id', '=', 'e.account_id'))
    .select('e.id')
    .where('e.account_id', '=', accountId)
    .where('e.number', '=', number)
    .where('s.recipient_extension_id', '=', readerExtensionId)
    .executeTakeFirst();
}

/** New and old messages (heard, not deleted) of one mailbox, in one query scoped by the account. */
async function mailboxCounts(db: Db, accountId: string, mailboxExtensionId: string): Promise<MailboxCounts> {
  const row = await db
    .selectFrom('voicemail_messages')
    .select([
      sql<number>`count(*) filter (where status = 'new')::int`.as('new_messages'),
      sql<number>`count(*) filter (where status = 'heard')::int`.as('old_messages'),
      sql<number>`count(*) filter (where status = 'new' and urgent)::int`.as('urgent_new'),
      sql<number>`count(*) filter (where status = 'heard' and urgent)::int`.as('urgent_old'),
    ])
    .where('account_id', '=', accountId)
    .where('mailbox_extension_id', '=', mailboxExtensionId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row ? { newMessages: row.new_messages, oldMessages: row.old_messages, urgentNew: row.urgent_new, urgentOld: row.urgent_old } : EMPTY;
}
