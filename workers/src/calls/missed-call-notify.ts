import { createHash } from 'node:crypto';
import type { Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '@carillon/config';
import type { JobProducer } from '@carillon/core/jobs';
import { notificationsOf } from '@carillon/core';
import { queueNotificationTarget, queueThatMissedCall } from '@carillon/core/queues';
import { CALL_RECORDS_CHANNEL, parseCallRecordEvent } from '@carillon/contracts/call-records-events';
import type { MissedCallNotifyJobData, MissedCallNotifyJobResult } from '@carillon/contracts/jobs';
import type { Db } from '@carillon/db';
import { emailDate, notificationReaders, readerClock } from '../notification-readers.ts';

/**
 * Missed-call e-mails (issue 13, "Notifications … Missed-call e-mails too";
 * users.notification_settings.missedCalls.email, off by default).
 *
 * What "missed" means, read from the rows media-server wrote
 * (media-server/src/calls/call-records.ts): a call (one `calls` segment) is
 * missed by a user when it has ended, the user's extension was rung for it
 * (a `callee` or `transfer_target` leg to one of their devices, or the call's
 * `callee_extension_id` is theirs, e.g. straight to voicemail for Do Not
 * Disturb or no registered phone), none of their devices' legs answered it,
 * and they did not place it themselves. Internal calls count; a feature code's
 * call (a page, `*84`, rings phones that may not auto-answer) does not. A call answered
 * on another of their devices is not missed. A call that rang them as one of a
 * group (a queue, a shared line: the call is not to their extension) is missed
 * only when nobody answered it: a colleague's answer handled it, as a queue
 * member's call log does not count it missed either.
 * A call that went to their voicemail is missed too, and e-mailed whether or
 * not a message was left, as RingCentral does: the two settings are separate
 * (turn this one off to get only voicemail e-mails), and the voicemail e-mail
 * may wait up to two minutes for its transcript, while this one leaves at the
 * call's end. A segment ended by a transfer is told like any other: it was answered,
 * so only a user it was for and who did not answer it (a forwarded call) missed it.
 *
 * Design, as voicemail-notify.ts: media-server publishes 'ended' on
 * CALL_RECORDS_CHANNEL once the call's end is written; the workers turn it
 * into ONE `missed-call-notify` job per call (job id naming the call, kept a
 * week), which enqueues one `email` per user who missed it and wants it (job
 * id naming the call and the user), so a repeated event or a retried job sends
 * nothing twice. Pub/sub is at-most-once: an event published while no worker
 * listens is lost (the call log still shows the call; only the e-mail is missing).
 */
export const missedCallNotifyJobId = (callId: string): string => `missed-call-notify-${callId}`;

/** The users of the account who missed the call (see above); none while it is live, or for another account's call. */
export async function usersWhoMissedCall(db: Db, accountId: string, callId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('calls as c')
    .innerJoin('users as u', (j) => j.onRef('u.account_id', '=', 'c.account_id'))
    .select('u.id')
    .where('c.id', '=', callId)
    .where('c.account_id', '=', accountId)
    .where('c.ended_at', 'is not', null)
    // A feature code's call (a page, *84, rings its receivers' phones) is no call to return.
    .where('c.to_number', 'not like', '*%')
    .where((eb) => {
      // The legs that rang the user's devices for this call (not their own caller leg, nor a supervisor's monitor leg).
      const theirLegs = eb
        .selectFrom('call_legs as l')
        .innerJoin('devices as d', 'd.id', 'l.device_id')
        .select('l.id')
        .whereRef('l.call_id', '=', 'c.id')
        .where('l.account_id', '=', accountId)
        .where('d.account_id', '=', accountId)
        .where('l.role', 'in', ['callee', 'transfer_target'])
        .whereRef('d.extension_id', '=', 'u.extension_id');
      // Anyone's phone answered it (a colleague of a queue or a shared line, a forwarded-to extension).
      const someoneAnswered = eb
        .selectFrom('call_legs as a')
        .select('a.id')
        .whereRef('a.call_id', '=', 'c.id')
        .where('a.account_id', '=', accountId)
        .where('a.role', 'in', ['callee', 'transfer_target'])
        .where('a.answered_at', 'is not', null);
      return eb.and([
        eb.or([eb('c.caller_extension_id', 'is', null), eb('c.caller_extension_id', '!=', eb.ref('u.extension_id'))]),
        eb.not(eb.exists(theirLegs.where('l.answered_at', 'is not', null))),
        eb.or([
          // A call to them: missed unless they answered, whoever took it instead.
          eb('c.callee_extension_id', '=', eb.ref('u.extension_id')),
          // A call that rang them as one of a group (a queue, a shared line): missed only when nobody answered it.
          eb.and([eb.exists(theirLegs), eb.not(eb.exists(someoneAnswered))]),
        ]),
      ]);
    })
    .orderBy('u.id')
    .execute();
  return rows.map((r) => r.id);
}

export interface MissedCallNotifyDeps {
  db: () => Promise<Db>;
  producer: JobProducer;
  publicUrl: string;
}

export function createMissedCallNotifyProcessor(deps: MissedCallNotifyDeps): Processor<MissedCallNotifyJobData, MissedCallNotifyJobResult> {
  return async (job) => {
    const { accountId, callId } = job.data;
    const db = await deps.db();
    const missedBy = await usersWhoMissedCall(db, accountId, callId);
    // CQ-11: a queue call nobody of the queue answered, e-mailed to the queue's addresses when it asks for it.
    const missedQueue = await queueThatMissedCall(db, accountId, callId);
    const queue = missedQueue ? await queueNotificationTarget(db, accountId, missedQueue, 'missedCalls') : null;
    if (missedBy.length === 0 && !queue) return { callId, missedBy: 0, emailed: 0 };
    const call = await db
      .selectFrom('calls as c')
      .innerJoin('accounts as a', 'a.id', 'c.account_id')
      .select(['c.from_number', 'c.from_name', 'c.to_number', 'c.started_at', 'a.time_zone as account_time_zone'])
      .where('c.id', '=', callId)
      .where('c.account_id', '=', accountId)
      .executeTakeFirstOrThrow();
    const users = await notificationReaders(db, accountId, missedBy);
    let emailed = 0;
    const sent = new Set<string>();
    for (const user of users) {
      if (!notificationsOf(user.notification_settings).missedCalls.email) continue;
      sent.add((user.notification_email ?? user.email).toLowerCase());
      const text = missedCallEmailText({
        ...readerClock(user, call.account_time_zone),
        fromNumber: call.from_number,
        fromName: call.from_name,
        toNumber: call.to_number,
        startedAt: new Date(call.started_at),
        link: `${deps.publicUrl}/me/call-log`,
      });
      await deps.producer.add(
        'email',
        'missed-call',
        { accountId, userId: user.id, purpose: 'missed-call', to: user.notification_email ?? user.email, subject: text.subject, text: text.body },
        { jobId: `missed-call-${callId}-${user.id}` },
      );
      emailed++;
    }
    if (queue) {
      const text = missedCallEmailText({
        ...readerClock({ language: queue.language, time_zone: null, time_format: queue.timeFormat }, call.account_time_zone),
        fromNumber: call.from_number,
        fromName: call.from_name,
        toNumber: call.to_number,
        startedAt: new Date(call.started_at),
        link: `${deps.publicUrl}/me/call-queues/supervisor`,
        queue: { number: queue.queueNumber, name: queue.queueName },
      });
      // An address a user's own e-mail about this call went to already gets one e-mail.
      for (const to of queue.addresses.filter((a) => !sent.has(a.toLowerCase()))) {
        // Named by the call and the address, so a retried job sends nothing twice.
        await deps.producer.add('email', 'missed-call', { accountId, userId: null, purpose: 'queue-missed-call', to, subject: text.subject, text: text.body }, { jobId: `missed-call-${callId}-queue-${addressKey(to)}` });
        emailed++;
      }
    }
    // The queue counts as one who missed it.
    return { callId, missedBy: missedBy.length + (queue ? 1 : 0), emailed };
  };
}

/** An address as a job id's part (no ':' or other characters a job id should not carry). */
export const addressKey = (address: string): string => createHash('sha256').update(address.toLowerCase()).digest('hex').slice(0, 24);

export interface MissedCallEmailInput {
  language: 'en' | 'fr';
  timeZone: string;
  hour12: boolean | undefined;
  fromNumber: string;
  fromName: string | null;
  /** The number dialled (the user's extension or direct number, a group's). */
  toNumber: string;
  startedAt: Date;
  link: string;
  /** CQ-11: the queue that missed the call, when the e-mail is the queue's. */
  queue?: { number: string; name: string | null };
}

/** The e-mail in the reader's language, the time the call came in their time zone and clock. */
export function missedCallEmailText(m: MissedCallEmailInput): { subject: string; body: string } {
  const fr = m.language === 'fr';
  const caller = [m.fromName, m.fromNumber].filter(Boolean).join(' ') || (fr ? 'un appelant inconnu' : 'an unknown caller');
  const date = emailDate(m.startedAt, m);
  const queue = m.queue ? [m.queue.name, `(${m.queue.number})`].filter(Boolean).join(' ') : null;
  if (fr) {
    return {
      subject: queue ? `Appel manqué de ${caller} pour la file ${queue}` : `Appel manqué de ${caller}`,
      body: `${queue ? `La file d'attente ${queue} a manqué un appel : personne n'a répondu.` : 'Vous avez manqué un appel.'}\n\nDe : ${caller}\nVers : ${m.toNumber}\nDate : ${date}\n\n${queue ? 'Vue superviseur des files' : 'Votre journal des appels'} :\n${m.link}\n`,
    };
  }
  return {
    subject: queue ? `Missed call from ${caller} for queue ${queue}` : `Missed call from ${caller}`,
    body: `${queue ? `The call queue ${queue} missed a call: nobody answered it.` : 'You missed a call.'}\n\nFrom: ${caller}\nTo: ${m.toNumber}\nDate: ${date}\n\n${queue ? 'Call queues supervisor view' : 'Your call log'}:\n${m.link}\n`,
  };
}

/**
 * Turns the channel's 'ended' events into `missed-call-notify` jobs, one per
 * call (every worker process hears every event; the job id makes one job).
 * Resolves once subscribed; `close` unsubscribes.
 */
export async function startMissedCallNotifyListener(deps: { subscriber: Redis; producer: JobProducer; log: Logger }): Promise<{ close: () => Promise<void> }> {
  const onMessage = (channel: string, message: string): void => {
    if (channel !== CALL_RECORDS_CHANNEL) return;
    const event = parseCallRecordEvent(message);
    if (!event) return;
    deps.producer
      .add('missed-call-notify', 'notify', { accountId: event.accountId, callId: event.callId }, { jobId: missedCallNotifyJobId(event.callId) })
      .catch((err: unknown) => deps.log.warn('missed-call notification not queued', { callId: event.callId, error: err }));
  };
  deps.subscriber.on('message', onMessage);
  await deps.subscriber.subscribe(CALL_RECORDS_CHANNEL);
  return {
    close: async () => {
      deps.subscriber.off('message', onMessage);
      await deps.subscriber.quit().catch(() => deps.subscriber.disconnect());
    },
  };
}
