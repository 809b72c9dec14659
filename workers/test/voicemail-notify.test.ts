import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Db } from '@carillon/db';
import { DEFAULT_NOTIFICATIONS, type NotificationSettings } from '@carillon/core';
import { DEFAULT_QUEUE_SETTINGS } from '@carillon/domain';
import { createJobProducer, createRedisConnection, type JobProducer } from '@carillon/core/jobs';
import { parseVoicemailEvent, VOICEMAIL_EVENTS_CHANNEL, type VoicemailEvent } from '@carillon/contracts/voicemail-events';
import { openServedDatabase, type ServedDatabase } from '../../scripts/lib/database.ts';
import { createScratchDatabase, testPostgresUrl } from '../../tests/support/postgres.ts';
import { depositVoicemail } from '../../tests/support/voicemail.ts';
import { deletePrefix, killIfRunning, REDIS_URL, spawnWorkers, startSmtpReceiver, uniquePrefix, waitFor, type Spawned } from './support.ts';
import { addStandardUser, decodeAudio, seedAccount, type SeededAccount } from './recording-export-support.ts';
import { parseMail, type ParsedMail } from '../src/fax/mime-message.ts';
import { TRANSCRIPT_WAIT_MS, voicemailNotifyJobId } from '../src/voicemail/voicemail-notify.ts';

/**
 * Voicemail notification e-mails (issue 13) with the real workers service, a
 * real SMTP receiver and ffmpeg: messages are left as media-server leaves them
 * and announced on the real Redis channel.
 */
fs.mkdirSync(path.join(os.tmpdir(), 'carillon-tests'), { recursive: true });
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-tests', 'voicemail-notify-'));
const prefix = uniquePrefix();
const connection = createRedisConnection(REDIS_URL);
const publisher = new Redis(REDIS_URL);
const listener = new Redis(REDIS_URL);
const heard: VoicemailEvent[] = [];
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let database: ServedDatabase;
let db: Db;
let account: SeededAccount;
let producer: JobProducer;
let worker: Spawned;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let nextExtension = 301;

interface Reader {
  userId: string;
  extensionId: string;
  address: string;
}

async function addReader(voicemail: NotificationSettings['voicemail'], regional: { language: 'en' | 'fr'; timeZone: string } = { language: 'en', timeZone: 'America/New_York' }): Promise<Reader> {
  const user = await addStandardUser(db, account, String(nextExtension++));
  const address = `notify-${user.userId.slice(0, 8)}@inbox.example`;
  await db
    .updateTable('users')
    .set({ notification_email: address, language: regional.language, time_zone: regional.timeZone, notification_settings: JSON.stringify({ ...DEFAULT_NOTIFICATIONS, voicemail }) })
    .where('id', '=', user.userId)
    .execute();
  return { ...user, address };
}

const publish = (event: VoicemailEvent) => publisher.publish(VOICEMAIL_EVENTS_CHANNEL, JSON.stringify(event));
const mailsTo = (address: string): ParsedMail[] => smtp.received.filter((m) => m.to.includes(address)).map((m) => {
    const parsed = parseMail(Buffer.from(m.raw, 'utf8'));
    // SMTP lines end in CRLF (RFC 5321 §2.3.8); the texts are written with LF.
    return { ...parsed, text: parsed.text.replaceAll('\r\n', '\n') };
  });

async function notifyJobFinished(messageId: string): Promise<{ emailed: number; markedRead: boolean }> {
  let result: { emailed: number; markedRead: boolean } | undefined;
  await waitFor(
    async () => {
      const queue = producer.queue('voicemail-notify');
      const job = await queue.getJob(voicemailNotifyJobId(messageId));
      if (job && (await job.isFailed())) throw new Error(`notify job failed: ${job.failedReason}`);
      // The job read above may predate its completion: its return value is read again once it is complete.
      if (job && (await job.isCompleted())) result = (await queue.getJob(voicemailNotifyJobId(messageId)))?.returnvalue ?? undefined;
      return result !== undefined;
    },
    60_000,
    'the voicemail-notify job',
  );
  return result!;
}

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'vmnotify');
  database = await openServedDatabase(scratch?.url, path.join(dataDir, 'db'));
  db = database.db;
  account = await seedAccount(db, 'Voicemail Mail Corp');
  smtp = await startSmtpReceiver();
  producer = createJobProducer(connection, prefix);
  listener.on('message', (_channel: string, message: string) => {
    const event = parseVoicemailEvent(message);
    if (event) heard.push(event);
  });
  await listener.subscribe(VOICEMAIL_EVENTS_CHANNEL);
  worker = spawnWorkers(prefix, { DATABASE_URL: database.url, DATA_DIR: dataDir, SMTP_URL: smtp.url, ENABLE_UNRELEASED: 'voicemail', PUBLIC_URL: 'https://pbx.example' });
  await worker.waitForOutput(/"workers started"/);
  await worker.waitForOutput(/voicemail notifications listening/);
}, 120_000);

afterAll(async () => {
  killIfRunning(worker);
  await producer?.close();
  await connection.quit();
  await publisher.quit();
  await listener.quit();
  await deletePrefix(prefix);
  await smtp?.stop();
  await database?.close();
  await scratch?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('voicemail notification e-mails', () => {
  it('waits for the transcript, then sends one e-mail with it and an MP3 of the message', { timeout: 120_000 }, async () => {
    const reader = await addReader({ email: true, attachment: true, markRead: false });
    const message = await depositVoicemail(db, dataDir, { accountId: account.accountId, mailboxExtensionId: reader.extensionId, fromName: 'Alice Martin', fromNumber: '+33612345678', seconds: 7, transcript: 'queued' });
    await publish({ kind: 'deposited', accountId: account.accountId, mailboxExtensionId: reader.extensionId, messageId: message.id });
    // The transcript is pending: the job waits (delayed) rather than e-mailing without it.
    await waitFor(async () => Boolean(await (await producer.queue('voicemail-notify').getJob(voicemailNotifyJobId(message.id)))?.isDelayed()), 30_000, 'the delayed job');
    expect(mailsTo(reader.address)).toHaveLength(0);

    await db.updateTable('transcriptions').set({ status: 'completed', text: 'Hi, it is Alice, please call me back about the contract.', engine: 'test', completed_at: new Date() }).where('id', '=', message.transcriptionId!).execute();
    await publish({ kind: 'transcribed', accountId: account.accountId, mailboxExtensionId: reader.extensionId, messageId: message.id });
    await waitFor(async () => mailsTo(reader.address).length > 0, 60_000, 'the e-mail');

    const [mail] = mailsTo(reader.address);
    expect(mail!.subject).toBe('New voicemail from Alice Martin +33612345678 (0:07)');
    expect(mail!.text).toContain('please call me back about the contract');
    expect(mail!.text).toContain('Duration: 0:07');
    expect(mail!.text).toContain('https://pbx.example/me/messages');
    expect(mail!.attachments).toHaveLength(1);
    expect(mail!.attachments[0]!.mediaType).toBe('audio/mpeg');
    expect(mail!.attachments[0]!.name).toMatch(/\.mp3$/);
    const audio = await decodeAudio(mail!.attachments[0]!.data);
    expect(Math.abs(audio.seconds - 7)).toBeLessThanOrEqual(0.5);
    expect(await notifyJobFinished(message.id)).toMatchObject({ emailed: 1, markedRead: false });
    // Not marked read: that setting is off.
    expect((await db.selectFrom('voicemail_messages').select('status').where('id', '=', message.id).executeTakeFirstOrThrow()).status).toBe('new');
  });

  it('sends without the transcript as soon as the transcription fails for good', { timeout: 120_000 }, async () => {
    const reader = await addReader({ email: true, attachment: false, markRead: false });
    const message = await depositVoicemail(db, dataDir, { accountId: account.accountId, mailboxExtensionId: reader.extensionId, fromNumber: '+15551230000', seconds: 2, transcript: 'queued' });
    // The transcription reads a file that is no audio: it fails at once, for good (no retry).
    fs.writeFileSync(path.join(dataDir, 'voicemail', account.accountId, 'not-audio.wav'), 'not audio at all');
    await db.updateTable('transcriptions').set({ audio_path: path.posix.join('voicemail', account.accountId, 'not-audio.wav') }).where('id', '=', message.transcriptionId!).execute();
    await publish({ kind: 'deposited', accountId: account.accountId, mailboxExtensionId: reader.extensionId, messageId: message.id });
    await waitFor(async () => Boolean(await (await producer.queue('voicemail-notify').getJob(voicemailNotifyJobId(message.id)))?.isDelayed()), 30_000, 'the delayed job');
    await producer.add('transcription', 'transcribe', { accountId: account.accountId, userId: null, transcriptionId: message.transcriptionId! }, { jobId: message.transcriptionId! });
    // Well within TRANSCRIPT_WAIT_MS: the failure, not the cap, lets the e-mail go.
    await waitFor(async () => mailsTo(reader.address).length > 0, TRANSCRIPT_WAIT_MS / 2, 'the e-mail');
    expect((await db.selectFrom('transcriptions').select('status').where('id', '=', message.transcriptionId!).executeTakeFirstOrThrow()).status).toBe('failed');
    expect(mailsTo(reader.address)[0]!.text).toContain('Transcript:\n(no transcript)');
  });

  it('sends once when the same events arrive twice', { timeout: 120_000 }, async () => {
    const reader = await addReader({ email: true, attachment: false, markRead: false });
    const message = await depositVoicemail(db, dataDir, { accountId: account.accountId, mailboxExtensionId: reader.extensionId, seconds: 2 });
    const deposited: VoicemailEvent = { kind: 'deposited', accountId: account.accountId, mailboxExtensionId: reader.extensionId, messageId: message.id };
    await publish(deposited);
    await publish(deposited);
    await publish({ ...deposited, kind: 'transcribed' });
    await notifyJobFinished(message.id);
    await publish(deposited);
    // A later message to the same reader, announced after the repeats: once its e-mail is in, the repeats have been handled
    // (each only looks the job up, far less than the sentinel's database, queue and SMTP round trips).
    const sentinel = await depositVoicemail(db, dataDir, { accountId: account.accountId, mailboxExtensionId: reader.extensionId, fromNumber: '+15550000000', seconds: 1 });
    await publish({ ...deposited, messageId: sentinel.id });
    await waitFor(async () => mailsTo(reader.address).some((m) => m.subject.includes('+15550000000')), 60_000, 'the sentinel e-mail');

    const mails = mailsTo(reader.address);
    expect(mails.filter((m) => m.subject.includes('+33612345678'))).toHaveLength(1);
    expect(mails).toHaveLength(2);
    expect(mails[0]!.attachments).toHaveLength(0);
    expect(mails[0]!.text).toContain('(no transcript)');
  });

  it('marks the message heard once e-mailed, and says so to the inbox', { timeout: 120_000 }, async () => {
    const reader = await addReader({ email: true, attachment: false, markRead: true });
    const message = await depositVoicemail(db, dataDir, { accountId: account.accountId, mailboxExtensionId: reader.extensionId, seconds: 2 });
    await publish({ kind: 'deposited', accountId: account.accountId, mailboxExtensionId: reader.extensionId, messageId: message.id });
    expect(await notifyJobFinished(message.id)).toMatchObject({ emailed: 1, markedRead: true });
    const row = await db.selectFrom('voicemail_messages').select(['status', 'heard_at']).where('id', '=', message.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('heard');
    expect(row.heard_at).not.toBeNull();
    await waitFor(async () => heard.some((e) => e.kind === 'changed' && e.messageId === message.id), 30_000, "the 'changed' event");
    expect(heard.find((e) => e.kind === 'changed' && e.messageId === message.id)).toEqual({ kind: 'changed', accountId: account.accountId, mailboxExtensionId: reader.extensionId, messageId: message.id });
    await waitFor(async () => mailsTo(reader.address).length === 1, 60_000, 'the e-mail');
  });

  it('e-mails a message in a queue’s mailbox to the queue’s address with the audio (CQ-11), and once to a recipient who is also that address', { timeout: 120_000 }, async () => {
    // The queue's message recipient is a reader whose own address is the queue's "Advanced" voicemail address too.
    const recipient = await addReader({ email: true, attachment: false, markRead: false });
    const queueAddress = `queue-${recipient.userId.slice(0, 8)}@inbox.example`;
    const queue = await db
      .insertInto('extensions')
      .values({ account_id: account.accountId, site_id: account.siteId, number: String(nextExtension++), type: 'call_queue', status: 'activated', name: 'Support' })
      .returning(['id', 'number'])
      .executeTakeFirstOrThrow();
    const settings = (to: string | null) => ({ ...DEFAULT_QUEUE_SETTINGS, notifications: { email: queueAddress, voicemail: { email: true, attachment: true, to }, missedCalls: { email: false, to: null } } });
    await db.insertInto('call_queues').values({ extension_id: queue.id, account_id: account.accountId, settings: JSON.stringify(settings(null)), manager_pin_hash: null }).execute();
    await db.insertInto('voicemail_settings').values({ extension_id: queue.id, account_id: account.accountId, recipient_extension_id: recipient.extensionId, greeting_path: null, updated_at: new Date() }).execute();

    const message = await depositVoicemail(db, dataDir, { accountId: account.accountId, mailboxExtensionId: queue.id, fromNumber: '+33612345678', seconds: 3 });
    await publish({ kind: 'deposited', accountId: account.accountId, mailboxExtensionId: queue.id, messageId: message.id });
    expect(await notifyJobFinished(message.id)).toMatchObject({ emailed: 2 });
    await waitFor(async () => mailsTo(queueAddress).length === 1 && mailsTo(recipient.address).length === 1, 60_000, 'the two e-mails');
    const [mail] = mailsTo(queueAddress);
    expect(mail!.subject).toBe(`New voicemail from +33612345678 (0:03) for queue Support (${queue.number})`);
    expect(mail!.text).toContain(`The call queue Support (${queue.number}) has a new voicemail.`);
    expect(mail!.attachments.map((a) => a.mediaType)).toEqual(['audio/mpeg']);
    expect(Math.abs((await decodeAudio(mail!.attachments[0]!.data)).seconds - 3)).toBeLessThanOrEqual(0.5);
    // The recipient's own e-mail (no attachment: their setting) is not the queue's.
    expect(mailsTo(recipient.address)[0]!.attachments).toHaveLength(0);

    // The queue's voicemail address is the recipient's: one e-mail, theirs.
    await db.updateTable('call_queues').set({ settings: JSON.stringify(settings(recipient.address)) }).where('extension_id', '=', queue.id).execute();
    const second = await depositVoicemail(db, dataDir, { accountId: account.accountId, mailboxExtensionId: queue.id, fromNumber: '+33612345678', seconds: 2 });
    await publish({ kind: 'deposited', accountId: account.accountId, mailboxExtensionId: queue.id, messageId: second.id });
    expect(await notifyJobFinished(second.id)).toMatchObject({ emailed: 1 });
    await waitFor(async () => mailsTo(recipient.address).length === 2, 60_000, 'the recipient’s second e-mail');
    expect(mailsTo(queueAddress)).toHaveLength(1);
  });

  it('sends nothing to a reader whose voicemail notifications are off', { timeout: 120_000 }, async () => {
    const reader = await addReader({ email: false, attachment: true, markRead: true });
    const message = await depositVoicemail(db, dataDir, { accountId: account.accountId, mailboxExtensionId: reader.extensionId, seconds: 2, transcript: 'Bonjour' });
    await publish({ kind: 'deposited', accountId: account.accountId, mailboxExtensionId: reader.extensionId, messageId: message.id });
    expect(await notifyJobFinished(message.id)).toMatchObject({ emailed: 0, markedRead: false });
    expect(await producer.queue('email').getJob(`voicemail-${message.id}-${reader.userId}`)).toBeUndefined();
    expect(mailsTo(reader.address)).toHaveLength(0);
    expect((await db.selectFrom('voicemail_messages').select('status').where('id', '=', message.id).executeTakeFirstOrThrow()).status).toBe('new');
  });

  it('writes to a French reader in French, the date in their time zone', { timeout: 120_000 }, async () => {
    const reader = await addReader({ email: true, attachment: false, markRead: false }, { language: 'fr', timeZone: 'Europe/Paris' });
    const message = await depositVoicemail(db, dataDir, {
      accountId: account.accountId,
      mailboxExtensionId: reader.extensionId,
      fromNumber: '+33612345678',
      seconds: 65,
      transcript: 'Rappelez-moi demain.',
      createdAt: new Date('2026-03-02T21:30:00Z'),
    });
    await publish({ kind: 'deposited', accountId: account.accountId, mailboxExtensionId: reader.extensionId, messageId: message.id });
    await waitFor(async () => mailsTo(reader.address).length > 0, 60_000, 'the e-mail');
    const [mail] = mailsTo(reader.address);
    expect(mail!.subject).toBe('Nouveau message vocal de +33612345678 (1:05)');
    expect(mail!.text).toContain('Durée : 1:05');
    // 21:30 UTC is 22:30 in Paris (winter time).
    expect(mail!.text).toMatch(/Date : lundi 2 mars 2026 (à )?22:30/);
    expect(mail!.text).toContain('Transcription :\nRappelez-moi demain.');
  });

  it('never attaches a file from outside the data directory', { timeout: 60_000 }, async () => {
    const job = await producer.add('email', 'test', {
      accountId: account.accountId,
      userId: null,
      purpose: 'test',
      to: 'nobody@inbox.example',
      subject: 'Escaping attachment',
      text: 'x',
      attachments: [{ filename: 'passwd', path: '../../../../etc/passwd', contentType: 'text/plain' }],
    });
    await waitFor(async () => Boolean(await (await producer.queue('email').getJob(job.id!))?.isFailed()), 30_000, 'the job to fail');
    const failed = await producer.queue('email').getJob(job.id!);
    expect(failed!.failedReason).toMatch(/leaves the data directory/);
    // Failed for good at once: no retry can make the path acceptable.
    expect(failed!.attemptsMade).toBe(1);
    expect(mailsTo('nobody@inbox.example')).toHaveLength(0);
  });
});
