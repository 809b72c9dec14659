import type { JobProducer } from '@carillon/core/jobs';
import { notificationsOf } from '@carillon/core';
import { smsUsersOfNumber } from '@carillon/core/sms';
import type { Db } from '@carillon/db';
import { emailDate, notificationReaders, readerClock } from '../notification-readers.ts';

/**
 * "Received Text Messages: Notify by Email" (inventory 1 §7.10): one e-mail
 * per reader of the business number the text came to (its user, or the
 * Company Fax/SMS recipient for a company number) who asked for it
 * (users.notification_settings.textMessages). The e-mails go through the
 * `email` queue, one job per text and reader whose id names both, so a text
 * handled twice is e-mailed once. Returns how many e-mails were queued.
 */
export async function queueSmsReceivedEmails(db: Db, deps: { producer: JobProducer; publicUrl: string }, accountId: string, messageId: string): Promise<number> {
  const message = await db
    .selectFrom('sms_messages as m')
    .innerJoin('sms_conversations as c', 'c.id', 'm.conversation_id')
    .innerJoin('accounts as a', 'a.id', 'm.account_id')
    .select(['m.from_number', 'm.body', 'm.created_at', 'm.direction', 'c.business_number', 'a.time_zone as account_time_zone'])
    .where('m.id', '=', messageId)
    .where('m.account_id', '=', accountId)
    .where('c.account_id', '=', accountId)
    .executeTakeFirst();
  if (!message || message.direction !== 'inbound') return 0;
  const readerIds = await smsUsersOfNumber(db, accountId, message.business_number);
  if (readerIds.length === 0) return 0;
  const readers = await notificationReaders(db, accountId, readerIds);
  let queued = 0;
  for (const reader of readers) {
    if (!notificationsOf(reader.notification_settings).textMessages.email) continue;
    const text = smsEmailText({
      ...readerClock(reader, message.account_time_zone),
      from: message.from_number,
      to: message.business_number,
      body: message.body,
      createdAt: new Date(message.created_at),
      link: `${deps.publicUrl}/me/messages`,
    });
    await deps.producer.add(
      'email',
      'sms-received',
      { accountId, userId: reader.id, purpose: 'sms-received', to: reader.notification_email ?? reader.email, subject: text.subject, text: text.body },
      { jobId: `sms-received-${messageId}-${reader.id}` },
    );
    queued++;
  }
  return queued;
}

export interface SmsEmailInput {
  language: 'en' | 'fr';
  timeZone: string;
  hour12: boolean | undefined;
  from: string;
  /** The business number it came to. */
  to: string;
  body: string;
  createdAt: Date;
  link: string;
}

/** The e-mail in the reader's language, the date in their time zone, the text in full. */
export function smsEmailText(m: SmsEmailInput): { subject: string; body: string } {
  const date = emailDate(m.createdAt, m);
  if (m.language === 'fr') {
    return {
      subject: `Nouveau SMS de ${m.from}`,
      body: `Vous avez reçu un SMS.\n\nDe : ${m.from}\nÀ : ${m.to}\nDate : ${date}\n\n${m.body}\n\nRépondez dans vos Messages :\n${m.link}\n`,
    };
  }
  return {
    subject: `New text message from ${m.from}`,
    body: `You have received a text message.\n\nFrom: ${m.from}\nTo: ${m.to}\nDate: ${date}\n\n${m.body}\n\nReply in your Messages:\n${m.link}\n`,
  };
}
