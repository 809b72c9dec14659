import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from 'bullmq';
import { createLogger } from '@carillon/config';
import { secretBox } from '@carillon/core';
import { createJobProducer, createRedisConnection, enqueueCampaignSmsSends, enqueueSmsSend, type SmsSendQueue } from '@carillon/core/jobs';
import {
  changeSmsCampaignState,
  queueOutboundSms,
  createSmsCampaign,
  createSmsCarrier,
  readSmsCampaign,
  recordSmsOptOut,
  reviewSmsRegistration,
  setSmsQuietHours,
  smsCampaignReport,
  submitSmsRegistration,
  redisSmsDailyCampaignCounter,
} from '@carillon/core/sms';
import type { Db } from '@carillon/db';
import { parseCsv } from '@carillon/domain';
import { createSmsSendProcessor } from '../src/sms/sms-send-processor.ts';
import { SmsGateway } from '../src/sms/sms-gateway.ts';
import { RedisSegmentRateLimiter } from '../src/sms/segment-rate-limiter.ts';
import { SmsCampaignScheduler } from '../src/sms/sms-campaign-scheduler.ts';
import { deletePrefix, REDIS_URL, startTestDatabase, uniquePrefix } from './support.ts';
import { seedAccount, type SeededAccount } from './recording-export-support.ts';
import { startTestSmsc, type TestSmsc } from './test-smsc.ts';

/**
 * Issue 18, deliverable 2, end to end below the API: a campaign of 500 lines
 * (some bad, some to numbers that opted out, one that opts out by STOP while
 * the campaign waits, one the carrier refuses) goes from an approved number
 * through the scheduler, the real sms-send queue (BullMQ on Redis), the real
 * database and SMPP client, to the test SMSC. The scheduler's clock is the
 * test's: it starts at 20:30 New York time, quiet hours are 21:00–08:00, and
 * nothing may leave between them. Checked on the SMSC side: exactly the right
 * numbers got exactly one text each, with their own fields filled in.
 */
const FROM = '+14155550300';
const ROWS = 500;
const TZ = 'America/New_York';
const key = randomBytes(32);
const box = secretBox(key);
const prefix = uniquePrefix();
const connection = createRedisConnection(REDIS_URL);
let database: Awaited<ReturnType<typeof startTestDatabase>>;
let db: Db;
let account: SeededAccount;
let smsc: TestSmsc;
/** The P2P carrier: a bind of its own (inventory 3 §13.1). */
let p2pSmsc: TestSmsc;
let gateway: SmsGateway;
let worker: Worker;
let queue: SmsSendQueue;
let clock = new Date('2026-06-01T23:00:00Z'); // 19:00 in New York (EDT)
let scheduler: SmsCampaignScheduler;

const recipient = (i: number) => `+1646556${String(i).padStart(4, '0')}`;
const textOf = (i: number) => `Hi Guest${i}, your code is C${i}. Reply STOP to opt out.`;
const TEMPLATE = 'Hi {{firstName}}, your code is {{code}}. Reply STOP to opt out.';
/** Opted out before the campaign. */
const OPTED_OUT = [3, 77, 150, 222, 301, 402, 499];
/** Opts out by texting STOP during the quiet hours (its line comes after them). */
const STOPS_LATER = 450;
/** The carrier refuses this one (ESME_RINVDSTADR). */
const REFUSED = 320;

function csv(): { text: string; badLines: number[] } {
  const lines = ['phone,firstName,code'];
  const badLines: number[] = [];
  for (let i = 0; i < ROWS; i++) {
    lines.push(`${recipient(i)},Guest${i},C${i}`);
    // Every 50th line is followed by a bad one: a non-number, a missing field, a duplicate, in turn.
    if (i % 50 === 25) {
      const kind = (i / 50) % 3;
      lines.push(kind < 1 ? `not-a-number,Bad${i},X` : kind < 2 ? `+1646557${String(i).padStart(4, '0')},,X` : `${recipient(i)},Again${i},X`);
      badLines.push(lines.length);
    }
  }
  return { text: lines.join('\n'), badLines };
}

const until = async (cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 120_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Campaign texts the SMSC took (the keyword replies excluded). */
const campaignTexts = () => smsc.received.filter((r) => r.text.startsWith('Hi Guest'));
const unsettled = async () =>
  Number(
    (
      await db
        .selectFrom('sms_messages')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('account_id', '=', account.accountId)
        .where('status', 'in', ['queued', 'sending', 'sent'])
        .executeTakeFirstOrThrow()
    ).n,
  );

beforeAll(async () => {
  database = await startTestDatabase();
  db = database.db;
  account = await seedAccount(db, 'Campaign Corp');
  await db.updateTable('accounts').set({ time_zone: TZ }).where('id', '=', account.accountId).execute();
  await db.insertInto('phone_numbers').values({ account_id: account.accountId, e164: FROM, type: 'additional_company' }).execute();
  smsc = await startTestSmsc({ systemId: 'campaigns', password: 'pw-campaigns', ackDelayMs: 1, receiptDelayMs: 2 });
  await createSmsCarrier(db, box, account.accountId, {
    name: 'A2P SMSC',
    trafficClass: 'a2p',
    host: '127.0.0.1',
    port: smsc.port,
    systemId: 'campaigns',
    password: 'pw-campaigns',
    segmentsPerSecond: 10_000,
    senderSegmentsPerSecond: 10_000,
    isDefault: true,
  });
  p2pSmsc = await startTestSmsc({ systemId: 'people', password: 'pw-people', ackDelayMs: 1, receiptDelayMs: 2 });
  await createSmsCarrier(db, box, account.accountId, { name: 'P2P SMSC', trafficClass: 'p2p', host: '127.0.0.1', port: p2pSmsc.port, systemId: 'people', password: 'pw-people', isDefault: true });
  queue = createJobProducer(connection, prefix).queue('sms-send');
  gateway = new SmsGateway({
    db: async () => db,
    box: () => box,
    log: createLogger('sms-campaign-test', 'warn', () => undefined),
    enqueue: (accountId, messageId) => enqueueSmsSend(queue, { accountId, messageId }),
    rateLimiter: new RedisSegmentRateLimiter(connection),
  });
  worker = new Worker('sms-send', createSmsSendProcessor({ db: async () => db, gateway }), { connection: createRedisConnection(REDIS_URL), prefix, concurrency: 20 });
  await worker.waitUntilReady();
  scheduler = new SmsCampaignScheduler({
    db: async () => db,
    enqueue: (accountId, ids) => enqueueCampaignSmsSends(queue, accountId, ids),
    dailyCounter: redisSmsDailyCampaignCounter(connection),
    log: createLogger('sms-campaign-test', 'warn', () => undefined),
    now: () => clock,
    batchSize: 100,
  });
}, 120_000);

afterAll(async () => {
  await scheduler?.close();
  await worker?.close();
  await gateway?.close();
  await queue?.close();
  await smsc?.close();
  await p2pSmsc?.close();
  await connection.quit();
  await deletePrefix(prefix);
  await database?.stop();
});

const admin = () => ({ accountId: account.accountId, userId: account.adminUserId, ip: '127.0.0.1' });

describe('a high-volume campaign through the scheduler and the test SMSC', () => {
  it('refuses a campaign from a number not approved for high volume', async () => {
    const attempt = await createSmsCampaign(db, admin(), { name: 'Too early', from: FROM, template: TEMPLATE, csv: csv().text }, clock);
    expect(attempt).toEqual({ ok: false, error: { code: 'not_high_volume', number: FROM } });
    const submitted = await submitSmsRegistration(db, admin(), { phoneNumber: FROM, businessName: 'Campaign Corp', useCase: 'appointment reminders', sampleMessage: textOf(1), expectedDailyVolume: 1000 });
    expect(submitted.ok).toBe(true);
    if (!submitted.ok) return;
    // Still pending: not yet.
    expect((await createSmsCampaign(db, admin(), { name: 'Still too early', from: FROM, template: TEMPLATE, csv: csv().text }, clock)).ok).toBe(false);
    expect(await reviewSmsRegistration(db, admin(), submitted.registration.id, 'approve', null)).toMatchObject({ status: 'approved' });
    expect(await db.selectFrom('sms_campaigns').select('id').where('account_id', '=', account.accountId).execute()).toEqual([]);
  });

  it('sends each good line exactly once with its fields, skips bad lines and opt-outs, and nothing during quiet hours', async () => {
    await setSmsQuietHours(db, admin(), { start: '21:00', end: '08:00' });
    for (const i of OPTED_OUT) await recordSmsOptOut(db, account.accountId, FROM, recipient(i), 'STOP');
    smsc.refuseDestination(recipient(REFUSED).slice(1));
    const list = csv();
    const created = await createSmsCampaign(
      db,
      admin(),
      { name: 'Summer codes', from: FROM, template: TEMPLATE, csv: list.text, startAt: new Date('2026-06-02T00:30:00Z') /* 20:30 in New York */ },
      clock,
    );
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    expect(created.accepted).toBe(ROWS);
    expect(created.errors.map((e) => e.line)).toEqual(list.badLines);
    expect(new Set(created.errors.map((e) => e.code))).toEqual(new Set(['invalid_number', 'missing_field', 'duplicate_number']));

    // 19:00: before its start, nothing.
    expect(await scheduler.runOnce()).toEqual({ queued: 0, optedOut: 0, completed: 0 });
    // 20:30: two batches of 100 lines (the opted-out among them set aside).
    clock = new Date('2026-06-02T00:30:00Z');
    const first = await scheduler.runOnce();
    const second = await scheduler.runOnce();
    expect(first.queued + first.optedOut + second.queued + second.optedOut).toBe(200);
    const optedOutEarly = OPTED_OUT.filter((i) => i < 200).length;
    expect(first.optedOut + second.optedOut).toBe(optedOutEarly);
    const sentEarly = 200 - optedOutEarly;
    await until(async () => (await unsettled()) === 0 && campaignTexts().length === sentEarly, `the first ${sentEarly} texts to be delivered`);

    // 21:00 (and again at 03:00 and 07:59): quiet hours, nothing queued, nothing sent.
    for (const at of ['2026-06-02T01:00:00Z', '2026-06-02T07:00:00Z', '2026-06-02T11:59:00Z']) {
      clock = new Date(at);
      expect(await scheduler.runOnce(), at).toEqual({ queued: 0, optedOut: 0, completed: 0 });
    }
    const campaignRow = await db.selectFrom('sms_campaigns').select(['next_run_at', 'status']).where('id', '=', created.campaignId).executeTakeFirstOrThrow();
    expect(campaignRow).toEqual({ next_run_at: new Date('2026-06-02T12:00:00Z'), status: 'running' }); // 08:00 in New York
    // A recipient still to come texts STOP meanwhile: the confirmation goes out (a keyword reply), the campaign text never will.
    expect(await smsc.sendInbound(recipient(STOPS_LATER), FROM, 'STOP')).toEqual([0]);
    await until(async () => Boolean(await db.selectFrom('sms_opt_outs').select('phone_number').where('phone_number', '=', recipient(STOPS_LATER)).executeTakeFirst()), 'the opt-out');
    expect(campaignTexts()).toHaveLength(sentEarly);
    expect(await db.selectFrom('sms_campaign_recipients').select('line').where('campaign_id', '=', created.campaignId).where('status', '=', 'queued').execute()).toHaveLength(sentEarly);

    // 08:00: the rest, round after round, until the campaign says it is done.
    clock = new Date('2026-06-02T12:00:00Z');
    for (let round = 0; round < 20; round++) {
      const r = await scheduler.runOnce();
      if (r.completed > 0) break;
    }
    expect((await readSmsCampaign(db, account.accountId, created.campaignId))!.status).toBe('completed');
    await until(async () => (await unsettled()) === 0, 'every text to settle');

    const expected = new Set(Array.from({ length: ROWS }, (_, i) => i).filter((i) => !OPTED_OUT.includes(i) && i !== STOPS_LATER && i !== REFUSED));
    const counts = smsc.deliveredCounts();
    for (const i of expected) expect(counts.get(`${recipient(i).slice(1)}|${textOf(i)}`), `texts to line ${i}`).toBe(1);
    // Nothing else: no text to a bad line, an opted-out number or the refused one beyond its one refused attempt.
    expect(campaignTexts().filter((r) => r.to !== recipient(REFUSED).slice(1))).toHaveLength(expected.size);
    for (const i of [...OPTED_OUT, STOPS_LATER]) expect(counts.get(`${recipient(i).slice(1)}|${textOf(i)}`)).toBeUndefined();
    expect(campaignTexts().some((r) => /Bad|Again/.test(r.text))).toBe(false);

    const view = (await readSmsCampaign(db, account.accountId, created.campaignId))!;
    expect(view.counts).toEqual({
      total: ROWS + list.badLines.length,
      skipped: list.badLines.length,
      pending: 0,
      queued: 0,
      sent: 0,
      delivered: expected.size,
      failed: 1,
      unknown: 0,
      optedOut: OPTED_OUT.length + 1,
      cancelled: 0,
      errorCodes: { '11': 1 },
    });

    // The report: one line per line of the upload, the skipped ones with their error.
    let report = '';
    for await (const chunk of (await smsCampaignReport(db, account.accountId, created.campaignId))!) report += chunk;
    const rows = parseCsv(report)!;
    expect(rows[0]!.cells).toEqual(['line', 'phone_number', 'status', 'carrier_error_code', 'reason', 'sent_at', 'completed_at']);
    expect(rows).toHaveLength(1 + ROWS + list.badLines.length);
    const byStatus = (s: string) => rows.slice(1).filter((r) => r.cells[2] === s);
    expect(byStatus('delivered')).toHaveLength(expected.size);
    expect(byStatus('opted_out')).toHaveLength(OPTED_OUT.length + 1);
    expect(byStatus('skipped').map((r) => Number(r.cells[0]))).toEqual(list.badLines);
    expect(byStatus('failed')).toEqual([expect.objectContaining({ cells: expect.arrayContaining([recipient(REFUSED), 'failed', '11']) })]);
    // The daily volume counts what was queued from the number on the local day.
    const volume = await db.selectFrom('sms_daily_volume').select(['day', 'texts']).where('account_id', '=', account.accountId).execute();
    expect(volume.map((v) => v.texts).reduce((a, b) => a + b, 0)).toBe(expected.size + 1);
  }, 240_000);

  it('stops a cancelled campaign: its pending lines are cancelled and nothing more is sent', async () => {
    clock = new Date('2026-06-02T14:00:00Z'); // 10:00 in New York
    const lines = ['phone,firstName,code', ...Array.from({ length: 30 }, (_, k) => `+1646558${String(k).padStart(4, '0')},Late${k},L${k}`)];
    const created = await createSmsCampaign(db, admin(), { name: 'Cancelled', from: FROM, template: TEMPLATE, csv: lines.join('\n') }, clock);
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    expect(await changeSmsCampaignState(db, admin(), created.campaignId, 'pause', clock)).toBe('paused');
    expect(await scheduler.runOnce()).toEqual({ queued: 0, optedOut: 0, completed: 0 });
    // Resumed before its start, it waits for its start.
    await db.updateTable('sms_campaigns').set({ start_at: new Date('2026-06-02T16:00:00Z') }).where('id', '=', created.campaignId).execute();
    expect(await changeSmsCampaignState(db, admin(), created.campaignId, 'resume', clock)).toBe('scheduled');
    expect(await scheduler.runOnce()).toEqual({ queued: 0, optedOut: 0, completed: 0 });
    expect((await db.selectFrom('sms_campaigns').select('next_run_at').where('id', '=', created.campaignId).executeTakeFirstOrThrow()).next_run_at).toEqual(new Date('2026-06-02T16:00:00Z'));
    expect(await changeSmsCampaignState(db, admin(), created.campaignId, 'cancel', clock)).toBe('cancelled');
    expect(await changeSmsCampaignState(db, admin(), created.campaignId, 'resume', clock)).toBe('invalid_state');
    expect(await scheduler.runOnce()).toEqual({ queued: 0, optedOut: 0, completed: 0 });
    expect((await readSmsCampaign(db, account.accountId, created.campaignId))!.counts).toMatchObject({ cancelled: 30, pending: 0 });
    expect(smsc.received.filter((r) => r.text.includes('Late'))).toHaveLength(0);
    // Another account never sees it.
    const other = await seedAccount(db, 'Other Campaigns');
    expect(await readSmsCampaign(db, other.accountId, created.campaignId)).toBeUndefined();
    expect(await changeSmsCampaignState(db, { accountId: other.accountId, userId: other.adminUserId, ip: null }, created.campaignId, 'resume')).toBeUndefined();
    expect(await smsCampaignReport(db, other.accountId, created.campaignId)).toBeUndefined();
  });

  it('sends a person’s text (P2P, its own bind) before the campaign texts already waiting, and the loop finishes the campaign by itself', async () => {
    clock = new Date('2026-06-02T15:00:00Z'); // 11:00 in New York
    const lines = ['phone,firstName,code', ...Array.from({ length: 150 }, (_, k) => `+1646559${String(k).padStart(4, '0')},Loop${k},P${k}`)];
    const created = await createSmsCampaign(db, admin(), { name: 'Priority', from: FROM, template: TEMPLATE, csv: lines.join('\n') }, clock);
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    // The sender stopped: 100 campaign texts wait in the queue, then a person's text joins them.
    await worker.pause();
    expect(await scheduler.runOnce()).toMatchObject({ queued: 100 });
    const person = await queueOutboundSms(db, { accountId: account.accountId, userId: account.adminUserId, from: FROM, to: '+16465550001', body: 'Running late, sorry', trafficClass: 'p2p', idempotencyKey: 'p2p-1' });
    await enqueueSmsSend(queue, { accountId: account.accountId, messageId: person.messageId });
    const order: string[] = [];
    worker.on('active', (job) => order.push((job.data as { messageId: string }).messageId));
    worker.resume();
    await until(() => p2pSmsc.received.some((r) => r.text === 'Running late, sorry'), 'the person’s text at the P2P SMSC');
    expect(order[0]).toBe(person.messageId);
    expect(smsc.received.some((r) => r.text === 'Running late, sorry')).toBe(false);
    expect(p2pSmsc.received.some((r) => r.text.startsWith('Hi Loop'))).toBe(false);

    // The loop does the rest on its own, and stops when closed.
    const loop = new SmsCampaignScheduler({
      db: async () => db,
      enqueue: (accountId, ids) => enqueueCampaignSmsSends(queue, accountId, ids),
    dailyCounter: redisSmsDailyCampaignCounter(connection),
      log: createLogger('sms-campaign-loop', 'warn', () => undefined),
      now: () => clock,
      batchSize: 20,
      idleMs: 50,
    });
    loop.start();
    try {
      await until(async () => (await readSmsCampaign(db, account.accountId, created.campaignId))!.status === 'completed' && (await unsettled()) === 0, 'the loop to finish the campaign');
    } finally {
      await loop.close();
    }
    const counts = smsc.deliveredCounts();
    for (let k = 0; k < 150; k++) expect(counts.get(`1646559${String(k).padStart(4, '0')}|Hi Loop${k}, your code is P${k}. Reply STOP to opt out.`), `line ${k + 2}`).toBe(1);
    expect((await readSmsCampaign(db, account.accountId, created.campaignId))!.counts).toMatchObject({ delivered: 150, pending: 0, queued: 0 });
  }, 120_000);

  it('defers the lines past the account’s daily cap to the next local day (pending, not failed), counted once for two schedulers', async () => {
    clock = new Date('2026-06-03T14:00:00Z'); // 10:00 in New York, a day of its own in the count
    const CAP = 25;
    const lines = ['phone,firstName,code', ...Array.from({ length: 40 }, (_, k) => `+1646560${String(k).padStart(4, '0')},Cap${k},K${k}`)];
    const created = await createSmsCampaign(db, admin(), { name: 'Capped', from: FROM, template: TEMPLATE, csv: lines.join('\n') }, clock);
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    // Two workers processes: each its scheduler and its own Redis connection, the count shared.
    const second = createRedisConnection(REDIS_URL);
    const schedulers = [connection, second].map(
      (redis) =>
        new SmsCampaignScheduler({
          db: async () => db,
          enqueue: (accountId, ids) => enqueueCampaignSmsSends(queue, accountId, ids),
          dailyCounter: redisSmsDailyCampaignCounter(redis),
          accountDailyCap: CAP,
          log: createLogger('sms-campaign-cap', 'warn', () => undefined),
          now: () => clock,
          batchSize: 10,
        }),
    );
    try {
      // The count itself, raced from both connections: never more granted than the cap.
      const counters = [connection, second].map(redisSmsDailyCampaignCounter);
      const raceAccount = randomUUID();
      const grants = await Promise.all(Array.from({ length: 20 }, (_, i) => counters[i % 2]!.reserve(raceAccount, '2026-06-03', 3, CAP)));
      expect(grants.reduce((n, g) => n + g, 0)).toBe(CAP);
      await counters[0]!.release(raceAccount, '2026-06-03', 4);
      expect(await counters[1]!.reserve(raceAccount, '2026-06-03', 10, CAP)).toBe(4);
      const capText = (k: number) => `1646560${String(k).padStart(4, '0')}|Hi Cap${k}, your code is K${k}. Reply STOP to opt out.`;
      let queued = 0;
      for (let round = 0; round < 5; round++) {
        // Both at once: the campaign's lease lets one in; the other finds nothing due.
        const results = await Promise.all(schedulers.map((s) => s.runOnce()));
        queued += results.reduce((n, r) => n + r.queued, 0);
      }
      expect(queued).toBe(CAP);
      const waiting = await readSmsCampaign(db, account.accountId, created.campaignId);
      expect(waiting).toMatchObject({ status: 'running', statusReason: `the account's daily cap of ${CAP} texts is reached: the remaining lines are sent from 2026-06-04` });
      expect(waiting!.counts).toMatchObject({ pending: 40 - CAP, failed: 0, cancelled: 0 });
      // Due again at midnight in New York, not before.
      expect((await db.selectFrom('sms_campaigns').select('next_run_at').where('id', '=', created.campaignId).executeTakeFirstOrThrow()).next_run_at).toEqual(new Date('2026-06-04T04:00:00Z'));
      await until(async () => (await unsettled()) === 0 && [...Array(CAP).keys()].every((k) => smsc.deliveredCounts().get(capText(k)) === 1), 'the first 25 texts at the SMSC');

      // The next local day (09:00 in New York): the rest, and nothing twice.
      clock = new Date('2026-06-04T13:00:00Z');
      for (let round = 0; round < 10; round++) if ((await schedulers[round % 2]!.runOnce()).completed > 0) break;
      const done = (await readSmsCampaign(db, account.accountId, created.campaignId))!;
      expect(done).toMatchObject({ status: 'completed', statusReason: null });
      await until(async () => (await unsettled()) === 0, 'every capped text to settle');
      expect((await readSmsCampaign(db, account.accountId, created.campaignId))!.counts).toMatchObject({ delivered: 40, pending: 0, failed: 0 });
      const counts = smsc.deliveredCounts();
      for (let k = 0; k < 40; k++) expect(counts.get(capText(k)), `line ${k + 2}`).toBe(1);
    } finally {
      await Promise.all(schedulers.map((s) => s.close()));
      await second.quit();
    }
  }, 120_000);
});
