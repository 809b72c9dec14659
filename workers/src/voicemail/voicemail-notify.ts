import fs from 'node:fs';
import { UnrecoverableError, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '@carillon/config';
import { convertToMp3 } from '@carillon/core/audio';
import type { JobProducer } from '@carillon/core/jobs';
import { notificationsOf } from '@carillon/core';
import { queueNotificationTarget } from '@carillon/core/queues';
import { voicemailFilePath, voicemailMp3PathOf, voicemailReadersOf } from '@carillon/core/voicemail';
import { parseVoicemailEvent, VOICEMAIL_EVENTS_CHANNEL, type VoicemailEvent } from '@carillon/contracts/voicemail-events';
import type { VoicemailNotifyJobData, VoicemailNotifyJobResult } from '@carillon/contracts/jobs';
import type { Db } from '@carillon/db';
import { emailDate, notificationReaders, readerClock } from '../notification-readers.ts';
import { addressKey } from '../calls/missed-call-notify.ts';

/**
 * Voicemail notification e-mails (issue 13, inventory 1 §7.10): "notify by
 * e-mail", "include the audio as MP3 attachment", "mark as read once e-mailed",
 * per reader of the mailbox (users.notification_settings.voicemail).
 *
 * Design. media-server only publishes 'deposited' on VOICEMAIL_EVENTS_CHANNEL
 * and the transcription processor publishes 'transcribed'; the workers listen
 * to both and turn them into ONE `voicemail-notify` job per message, whose job
 * id is the message's (BullMQ ignores an add with an id it already holds, and
 * the job is kept a week after it completes):
 * - 'deposited' of a message without a transcript pending: the job runs now;
 * - 'deposited' while its transcript is being made: the job is delayed by
 *   TRANSCRIPT_WAIT_MS, the cap after which the e-mail leaves without it;
 * - 'transcribed': the delayed job is promoted, so it runs now with the
 *   transcript (or it is added, when the 'deposited' event was missed).
 * A transcription that fails for good publishes 'transcribed' too, so the
 * e-mail leaves then, without a transcript; the cap covers a transcription
 * stuck behind a long queue or a lost event. The job enqueues one `email` per reader, whose job id names
 * the message and the reader, so a retried or repeated job sends nothing twice.
 * Pub/sub is at-most-once: an event published while no worker listens is lost
 * (the inbox still shows the message; only the e-mail is missing).
 */
export const TRANSCRIPT_WAIT_MS = 2 * 60_000;

export const voicemailNotifyJobId = (messageId: string): string => `voicemail-notify-${messageId}`;

export interface VoicemailNotifyDeps {
  db: () => Promise<Db>;
  dataDir: string;
  ffmpeg: string;
  producer: JobProducer;
  publicUrl: string;
  publish: (event: VoicemailEvent) => void;
}

export function createVoicemailNotifyProcessor(deps: VoicemailNotifyDeps): Processor<VoicemailNotifyJobData, VoicemailNotifyJobResult> {
  return async (job) => {
    const { accountId, messageId } = job.data;
    const db = await deps.db();
    const message = await db
      .selectFrom('voicemail_messages as m')
      .innerJoin('accounts as a', 'a.id', 'm.account_id')
      .leftJoin('transcriptions as t', (j) => j.onRef('t.id', '=', 'm.transcription_id').on('t.account_id', '=', accountId))
      .select(['m.id', 'm.mailbox_extension_id', 'm.from_number', 'm.from_name', 'm.audio_path', 'm.duration_ms', 'm.created_at', 'm.deleted_at', 'a.time_zone as account_time_zone', 't.status as transcript_status', 't.text as transcript_text'])
      .where('m.id', '=', messageId)
      .where('m.account_id', '=', accountId)
      .executeTakeFirst();
    // Gone or already deleted by the time the job runs: nothing to announce.
    if (!message || message.deleted_at) return { messageId, emailed: 0, markedRead: false };
    const readerIds = await voicemailReadersOf(db, accountId, message.mailbox_extension_id);
    const readers = await notificationReaders(db, accountId, readerIds);
    const wanted = readers.map((r) => ({ reader: r, settings: notificationsOf(r.notification_settings).voicemail })).filter((w) => w.settings.email);
    // CQ-11: a message in a queue's mailbox is also e-mailed to the queue's addresses, when the queue asks for it.
    const queue = await queueNotificationTarget(db, accountId, message.mailbox_extension_id, 'voicemail');
    if (wanted.length === 0 && !queue) return { messageId, emailed: 0, markedRead: false };

    const mp3 = voicemailMp3PathOf(message.audio_path);
    if (wanted.some((w) => w.settings.attachment) || queue?.attachment) await ensureMp3(deps, message.audio_path, mp3);
    const transcript = message.transcript_status === 'completed' ? (message.transcript_text ?? '').trim() : null;
    /** The message's e-mail in a reader's clock (a user's, or the account's for a queue's e-mail). */
    const textFor = (clock: ReturnType<typeof readerClock>, queueOf?: VoicemailEmailInput['queue']) =>
      voicemailEmailText({ ...clock, fromNumber: message.from_number, fromName: message.from_name, createdAt: new Date(message.created_at), durationMs: message.duration_ms, transcript, link: `${deps.publicUrl}/me/messages`, ...(queueOf ? { queue: queueOf } : {}) });
    for (const { reader, settings } of wanted) {
      const text = textFor(readerClock(reader, message.account_time_zone));
      await deps.producer.add(
        'email',
        'voicemail',
        {
          accountId,
          userId: reader.id,
          purpose: 'voicemail',
          to: reader.notification_email ?? reader.email,
          subject: text.subject,
          text: text.body,
          ...(settings.attachment ? { attachments: [{ filename: text.attachmentName, path: mp3, contentType: 'audio/mpeg' }] } : {}),
        },
        { jobId: `voicemail-${messageId}-${reader.id}` },
      );
    }
    let queueEmailed = 0;
    if (queue) {
      const text = textFor(readerClock({ language: queue.language, time_zone: null, time_format: queue.timeFormat }, message.account_time_zone), { number: queue.queueNumber, name: queue.queueName });
      const attachments = queue.attachment ? { attachments: [{ filename: text.attachmentName, path: mp3, contentType: 'audio/mpeg' }] } : {};
      // An address a reader's own e-mail went to already (the recipient manages the queue) gets one e-mail.
      const sent = new Set(wanted.map((w) => (w.reader.notification_email ?? w.reader.email).toLowerCase()));
      for (const to of queue.addresses.filter((a) => !sent.has(a.toLowerCase()))) {
        await deps.producer.add('email', 'voicemail', { accountId, userId: null, purpose: 'queue-voicemail', to, subject: text.subject, text: text.body, ...attachments }, { jobId: `voicemail-${messageId}-queue-${addressKey(to)}` });
        queueEmailed++;
      }
    }
    // "Mark as read once e-mailed": the e-mail is in the durable queue (with its own retries) by now.
    // A reader who asks for it marks the message heard for the mailbox, as reading it in the inbox does.
    let markedRead = false;
    if (wanted.some((w) => w.settings.markRead)) {
      const marked = await db
        .updateTable('voicemail_messages')
        .set({ status: 'heard', heard_at: new Date() })
        .where('id', '=', messageId)
        .where('account_id', '=', accountId)
        .where('status', '=', 'new')
        .executeTakeFirst();
      markedRead = Number(marked.numUpdatedRows) > 0;
      if (markedRead) deps.publish({ kind: 'changed', accountId, mailboxExtensionId: message.mailbox_extension_id, messageId });
    }
    return { messageId, emailed: wanted.length + queueEmailed, markedRead };
  };
}

/** The MP3 copy of the message, made once: written aside and renamed, so a crash never leaves half a file to attach. */
async function ensureMp3(deps: VoicemailNotifyDeps, audioPath: string, mp3Path: string): Promise<void> {
  const input = voicemailFilePath(deps.dataDir, audioPath);
  const output = voicemailFilePath(deps.dataDir, mp3Path);
  if (!input || !output) throw new UnrecoverableError('voicemail audio path outside the data directory');
  if (fs.existsSync(output)) return;
  if (!fs.existsSync(input)) throw new UnrecoverableError('the voicemail audio file is missing');
  const partial = `${output}.${process.pid}.partial`;
  try {
    await convertToMp3(input, partial, { ffmpeg: deps.ffmpeg });
    await fs.promises.rename(partial, output);
  } finally {
    await fs.promises.rm(partial, { force: true });
  }
}

export interface VoicemailEmailInput {
  language: 'en' | 'fr';
  timeZone: string;
  hour12: boolean | undefined;
  fromNumber: string | null;
  fromName: string | null;
  createdAt: Date;
  durationMs: number;
  /** The completed transcript; null when there is none (not asked for, failed, or late). */
  transcript: string | null;
  link: string;
  /** CQ-11: the queue whose mailbox took the message, when the e-mail is the queue's. */
  queue?: { number: string; name: string | null };
}

/** The e-mail in the reader's language, the date in their time zone. */
export function voicemailEmailText(m: VoicemailEmailInput): { subject: string; body: string; attachmentName: string } {
  const fr = m.language === 'fr';
  const caller = [m.fromName, m.fromNumber].filter(Boolean).join(' ') || (fr ? 'un appelant inconnu' : 'an unknown caller');
  const date = emailDate(m.createdAt, m);
  const seconds = Math.round(m.durationMs / 1000);
  const duration = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  const stamp = m.createdAt.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  const attachmentName = `${fr ? 'message-vocal' : 'voicemail'}-${stamp}.mp3`;
  const queue = m.queue ? [m.queue.name, `(${m.queue.number})`].filter(Boolean).join(' ') : null;
  if (fr) {
    return {
      subject: `Nouveau message vocal de ${caller} (${duration})${queue ? ` pour la file ${queue}` : ''}`,
      body: `${queue ? `La file d'attente ${queue} a un nouveau message vocal.` : 'Vous avez un nouveau message vocal.'}\n\nDe : ${caller}\nDate : ${date}\nDurée : ${duration}\n\nTranscription :\n${m.transcript || '(aucune transcription)'}\n\nÉcoutez-le dans vos Messages :\n${m.link}\n`,
      attachmentName,
    };
  }
  return {
    subject: `New voicemail from ${caller} (${duration})${queue ? ` for queue ${queue}` : ''}`,
    body: `${queue ? `The call queue ${queue} has a new voicemail.` : 'You have a new voicemail.'}\n\nFrom: ${caller}\nDate: ${date}\nDuration: ${duration}\n\nTranscript:\n${m.transcript || '(no transcript)'}\n\nListen to it in your Messages:\n${m.link}\n`,
    attachmentName,
  };
}

/**
 * Turns the channel's events into `voicemail-notify` jobs (see the design
 * above). Resolves once subscribed; `close` unsubscribes.
 */
export async function startVoicemailNotifyListener(deps: { subscriber: Redis; db: () => Promise<Db>; producer: JobProducer; log: Logger }): Promise<{ close: () => Promise<void> }> {
  const onEvent = async (event: VoicemailEvent): Promise<void> => {
    if (event.kind === 'changed') return;
    const jobId = voicemailNotifyJobId(event.messageId);
    const data = { accountId: event.accountId, messageId: event.messageId };
    if (event.kind === 'transcribed') {
      // An add with the id of a job that exists returns that job, unchanged: the 'deposited' handler may
      // have delayed it meanwhile (here or in another worker process, all of which hear every event).
      const job = (await deps.producer.queue('voicemail-notify').getJob(jobId)) ?? (await deps.producer.add('voicemail-notify', 'notify', data, { jobId }));
      // The delay may end meanwhile: then the job is already waiting, which is what promote wanted.
      if (await job.isDelayed()) await job.promote().catch(() => undefined);
      return;
    }
    const db = await deps.db();
    const row = await db
      .selectFrom('voicemail_messages as m')
      .leftJoin('transcriptions as t', (j) => j.onRef('t.id', '=', 'm.transcription_id').onRef('t.account_id', '=', 'm.account_id'))
      .select(['m.id', 't.status as transcript_status'])
      .where('m.id', '=', event.messageId)
      .where('m.account_id', '=', event.accountId)
      .executeTakeFirst();
    if (!row) return;
    const pending = row.transcript_status !== null && row.transcript_status !== 'completed' && row.transcript_status !== 'failed';
    await deps.producer.add('voicemail-notify', 'notify', data, { jobId, ...(pending ? { delay: TRANSCRIPT_WAIT_MS } : {}) });
  };
  const onMessage = (channel: string, message: string): void => {
    if (channel !== VOICEMAIL_EVENTS_CHANNEL) return;
    const event = parseVoicemailEvent(message);
    if (!event) return;
    onEvent(event).catch((err: unknown) => deps.log.warn('voicemail notification not queued', { messageId: event.messageId, error: err }));
  };
  deps.subscriber.on('message', onMessage);
  await deps.subscriber.subscribe(VOICEMAIL_EVENTS_CHANNEL);
  return {
    close: async () => {
      deps.subscriber.off('message', onMessage);
      await deps.subscriber.quit().catch(() => deps.subscriber.disconnect());
    },
  };
}
