import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { DEFAULT_NOTIFICATIONS } from '@carillon/core';
import { saveCallQueue, saveQueueManagers } from '@carillon/core/queues';
import { DEFAULT_QUEUE_SETTINGS } from '@carillon/domain';
import { createJobProducer, createRedisConnection, type JobProducer } from '@carillon/core/jobs';
import { CALL_RECORDS_CHANNEL, parseCallRecordEvent, type CallRecordEvent } from '@carillon/contracts/call-records-events';
import type { MissedCallNotifyJobResult } from '@carillon/contracts/jobs';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, type SippRun } from '../support/sipp.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { deletePrefix, killIfRunning, REDIS_URL, spawnWorkers, startSmtpReceiver, startTestDatabase, uniquePrefix, type Spawned } from '../../../workers/test/support.ts';
import { parseMail } from '../../../workers/src/fax/mime-message.ts';
import { missedCallNotifyJobId } from '../../../workers/src/calls/missed-call-notify.ts';

/**
 * Missed-call e-mails end to end (issue 13): a SIPp caller calls a SIPp
 * phone that rings and is not answered (the caller gives up); media-server
 * writes the call's end and publishes it on CALL_RECORDS_CHANNEL; the real
 * workers service finds who missed it and e-mails, through a real SMTP
 * receiver, the user who asked for missed-call e-mails, and not the one who
 * did not. The edge and the workers share one PostgreSQL (or served PGlite)
 * database and the real Redis.
 */
const prefix = uniquePrefix();
const connection = createRedisConnection(REDIS_URL);
const listener = new Redis(REDIS_URL);
const heard: CallRecordEvent[] = [];
let database: Awaited<ReturnType<typeof startTestDatabase>>;
let h: EdgeHarness;
let caller: TestPhone;
let producer: JobProducer;
let worker: Spawned;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
const callees: SippRun[] = [];

/** The address e-mails to an extension's user go to (their own e-mail: no notification_email is set). */
const addressOf = async (phone: TestPhone) =>
  (await h.db.selectFrom('users').select('email').where('account_id', '=', h.accountId).where('extension_id', '=', phone.extensionId).executeTakeFirstOrThrow()).email;
const mailsTo = (address: string) => smtp.received.filter((m) => m.to.includes(address)).map((m) => {
    const parsed = parseMail(Buffer.from(m.raw, 'utf8'));
    return { ...parsed, text: parsed.text.replaceAll('\r\n', '\n') };
  });

async function notifyJobResult(callId: string): Promise<MissedCallNotifyJobResult> {
  const queue = producer.queue('missed-call-notify');
  let result: MissedCallNotifyJobResult | undefined;
  await expect
    .poll(
      async () => {
        const job = await queue.getJob(missedCallNotifyJobId(callId));
        if (job && (await job.isFailed())) throw new Error(`notify job failed: ${job.failedReason}`);
        if (job && (await job.isCompleted())) result = (await queue.getJob(missedCallNotifyJobId(callId)))?.returnvalue ?? undefined;
        return result !== undefined;
      },
      { timeout: 30_000, interval: 50 },
    )
    .toBe(true);
  return result!;
}

/** Nothing waiting, delayed or running in the notify and e-mail queues. */
async function queuesIdle(): Promise<boolean> {
  for (const name of ['missed-call-notify', 'email'] as const) {
    const counts = await producer.queue(name).getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    if (Object.values(counts).some((n) => n > 0)) return false;
  }
  return true;
}

/** A call from 101 to `phone`, which rings and is never answered: the caller CANCELs after the 180. The call's record id. */
async function unansweredCall(phone: TestPhone): Promise<string> {
  await h.edge.bindings.removeAll(phone.extensionId);
  const ringing = await startRegisteredSipp({ target: h.target, credentials: phone, scenario: 'uas-ring-cancelled.xml' });
  callees.push(ringing);
  const uac = await runSipp({ scenario: 'uac-cancel.xml', target: h.target, localPort: await freeSipPort(), service: phone.extension, auth: caller, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
  expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
  expect((await ringing.done).code, 'the phone rang and saw the CANCEL').toBe(0);
  const record = await h.lastCall();
  expect(record).toMatchObject({ to_number: phone.extension, result: 'cancelled', callee_extension_id: phone.extensionId });
  return record.id;
}

beforeAll(async () => {
  database = await startTestDatabase();
  h = await startEdge({ db: database.db, noAnswerSeconds: 30, unreleased: 'queues' });
  caller = await h.addPhone('101');
  smtp = await startSmtpReceiver();
  producer = createJobProducer(connection, prefix);
  listener.on('message', (_channel: string, message: string) => {
    const event = parseCallRecordEvent(message);
    if (event?.accountId === h.accountId) heard.push(event);
  });
  await listener.subscribe(CALL_RECORDS_CHANNEL);
  worker = spawnWorkers(prefix, { DATABASE_URL: database.url, SMTP_URL: smtp.url, PUBLIC_URL: 'https://pbx.example' });
  await worker.waitForOutput(/"workers started"/);
  await worker.waitForOutput(/missed-call notifications listening/);
}, 120_000);

afterEach(() => {
  for (const c of callees.splice(0)) c.stop();
});

afterAll(async () => {
  killIfRunning(worker);
  await producer?.close();
  await connection.quit();
  await listener.quit();
  await deletePrefix(prefix);
  await smtp?.stop();
  await h?.stop();
  await database?.stop();
});

describe('missed-call e-mails', () => {
  it('e-mails the user who wants them once per unanswered call, the one who does not never; a repeated event sends nothing twice', { timeout: 120_000 }, async () => {
    const wanting = await h.addPhone('102');
    const notWanting = await h.addPhone('103');
    await h.db
      .updateTable('users')
      .set({ notification_settings: JSON.stringify({ ...DEFAULT_NOTIFICATIONS, missedCalls: { email: true } }), language: 'fr', time_zone: 'Europe/Paris' })
      .where('account_id', '=', h.accountId)
      .where('extension_id', '=', wanting.extensionId)
      .execute();
    const [wantingAddress, notWantingAddress] = [await addressOf(wanting), await addressOf(notWanting)];

    const missed = await unansweredCall(wanting);
    await expect.poll(() => mailsTo(wantingAddress).length, { timeout: 30_000, interval: 50 }).toBe(1);
    const [mail] = mailsTo(wantingAddress);
    expect(mail!.subject).toMatch(/^Appel manqué de .*101$/);
    expect(mail!.text).toContain('Vers : 102');
    expect(mail!.text).toContain('https://pbx.example/me/call-log');
    expect(await notifyJobResult(missed)).toEqual({ callId: missed, missedBy: 1, emailed: 1 });

    const notEmailed = await unansweredCall(notWanting);
    expect(await notifyJobResult(notEmailed)).toEqual({ callId: notEmailed, missedBy: 1, emailed: 0 });

    // media-server published each call's end once, from the records, once written.
    expect(heard.map((e) => e.callId).sort()).toEqual([missed, notEmailed].sort());

    // The same end again, then a call the account never had: once the latter's job exists, the repeat has been handled
    // (the listener adds in the order it hears, on one connection).
    await h.redis.publish(CALL_RECORDS_CHANNEL, JSON.stringify({ kind: 'ended', accountId: h.accountId, callId: missed } satisfies CallRecordEvent));
    const marker = randomUUID();
    await h.redis.publish(CALL_RECORDS_CHANNEL, JSON.stringify({ kind: 'ended', accountId: h.accountId, callId: marker } satisfies CallRecordEvent));
    expect(await notifyJobResult(marker)).toEqual({ callId: marker, missedBy: 0, emailed: 0 });
    // A retried notify job (another id, same call) adds an e-mail job whose id exists: nothing new is sent either.
    await producer.add('missed-call-notify', 'notify', { accountId: h.accountId, callId: missed }, { jobId: `retry-${missed}` });
    await expect.poll(async () => (await producer.queue('missed-call-notify').getJob(`retry-${missed}`))?.returnvalue ?? null, { timeout: 30_000, interval: 50 }).toEqual({ callId: missed, missedBy: 1, emailed: 1 });
    await expect.poll(queuesIdle, { timeout: 30_000, interval: 50 }).toBe(true);
    expect(mailsTo(wantingAddress)).toHaveLength(1);
    expect(mailsTo(notWantingAddress)).toHaveLength(0);
  });

  it('e-mails a queue’s abandoned call to the queue’s address (CQ-11), once; a queue that does not ask for it sends nothing', { timeout: 120_000 }, async () => {
    // Queue 600: one member whose phone is not registered (nobody is free), missed calls e-mailed to the queue's own address.
    const member = await h.addPhone('104');
    await h.edge.bindings.removeAll(member.extensionId);
    const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
    const addQueue = async (number: string) =>
      (await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number, type: 'call_queue', name: `Support ${number}`, status: 'activated' }).returning('id').executeTakeFirstOrThrow()).id;
    const queueId = await addQueue('600');
    const quietId = await addQueue('610');
    const queueAddress = `support-${randomUUID().slice(0, 8)}@example.com`;
    const actor = { userId: null, ip: null };
    await saveCallQueue(h.db, actor, h.accountId, queueId, {
      settings: { ...DEFAULT_QUEUE_SETTINGS, notifications: { email: queueAddress, voicemail: { email: true, attachment: false, to: null }, missedCalls: { email: true, to: null } } },
      members: [{ extension: member.extension, accepting: true }],
    });
    // Queue 610 keeps the defaults (missed calls not e-mailed), with a Full Access manager who would be its address.
    const manager = await h.addPhone('105');
    await saveCallQueue(h.db, actor, h.accountId, quietId, { settings: DEFAULT_QUEUE_SETTINGS, members: [{ extension: member.extension, accepting: true }] });
    await saveQueueManagers(h.db, actor, h.accountId, quietId, { pin: '582914', pinConfirm: '582914', managers: [{ extension: manager.extension, permission: 'full' }] });
    h.configChanged('queues');
    const managerAddress = await addressOf(manager);

    /** A caller who waits in the queue 2 s, nobody free, and hangs up: the call's record id. */
    const abandon = async (number: string) => {
      const uac = await runSipp({ scenario: 'uac-bye-after-2s.xml', target: h.target, localPort: await freeSipPort(), service: number, auth: caller, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
      expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
      const record = await h.lastCall();
      expect(record).toMatchObject({ to_number: number });
      return record.id;
    };

    const abandoned = await abandon('600');
    await expect.poll(() => mailsTo(queueAddress).length, { timeout: 30_000, interval: 50 }).toBe(1);
    const [mail] = mailsTo(queueAddress);
    expect(mail!.subject).toMatch(/^Missed call from .*101 for queue Support 600 \(600\)$/);
    expect(mail!.text).toContain('The call queue Support 600 (600) missed a call');
    expect(mail!.text).toContain('https://pbx.example/me/call-queues/supervisor');
    // The queue is who missed it (its member's phone never rang: not registered).
    expect(await notifyJobResult(abandoned)).toEqual({ callId: abandoned, missedBy: 1, emailed: 1 });
    // A retried notify job sends nothing twice.
    await producer.add('missed-call-notify', 'notify', { accountId: h.accountId, callId: abandoned }, { jobId: `retry-${abandoned}` });
    await expect.poll(async () => (await producer.queue('missed-call-notify').getJob(`retry-${abandoned}`))?.returnvalue ?? null, { timeout: 30_000, interval: 50 }).toEqual({ callId: abandoned, missedBy: 1, emailed: 1 });

    const quiet = await abandon('610');
    expect(await notifyJobResult(quiet)).toEqual({ callId: quiet, missedBy: 0, emailed: 0 });
    await expect.poll(queuesIdle, { timeout: 30_000, interval: 50 }).toBe(true);
    expect(mailsTo(queueAddress)).toHaveLength(1);
    expect(mailsTo(managerAddress)).toHaveLength(0);
  });
});
