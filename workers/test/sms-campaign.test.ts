import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from 'bullmq';
import { createLogger } from '@carillon/config';
import { secretBox } from '@carillon/core';
import { createJobProducer, createRedisConnection, enqueueSmsSend, type SmsSendQueue } from '@carillon/core/jobs';
import { chooseSmsCarrier, conversationFor, createSmsCarrier, queueOutboundSms, queueOutboundSmsBatch, SmsConversationNotFoundError } from '@carillon/core/sms';
import { QUEUE_JOB_OPTIONS } from '@carillon/contracts/jobs';
import type { Db } from '@carillon/db';
import { smsKeywordReply } from '@carillon/domain';
import { createSmsSendProcessor } from '../src/sms/sms-send-processor.ts';
import { SmsGateway } from '../src/sms/sms-gateway.ts';
import { RedisSegmentRateLimiter } from '../src/sms/segment-rate-limiter.ts';
import { deletePrefix, REDIS_URL, startTestDatabase, uniquePrefix } from './support.ts';
import { seedAccount, type SeededAccount } from './recording-export-support.ts';
import { startTestSmsc, type TestSmsc } from './test-smsc.ts';

/**
 * Issue 18 acceptance, the campaign through a misbehaving SMSC: 2,000 texts
 * (some long, some UCS-2) through the real sms-send queue (BullMQ on Redis),
 * the real database and the SMPP client, while the SMSC drops every
 * connection three times mid-batch, stalls once, throttles, refuses one
 * destination and reports another undeliverable. Checked on the SMSC side by
 * content and count: every message arrived exactly once, or is marked
 * failed or unknown with a reason; none lost, none duplicated. The 10,000
 * version is bench/sms-campaign.ts.
 */
const MESSAGES = 2000;
const FROM = '+14155550100';
const key = randomBytes(32);
const box = secretBox(key);
const prefix = uniquePrefix();
const connection = createRedisConnection(REDIS_URL);
let database: Awaited<ReturnType<typeof startTestDatabase>>;
let db: Db;
let account: SeededAccount;
let smsc: TestSmsc;
let gateway: SmsGateway;
let worker: Worker;
let queue: SmsSendQueue;
let carrierId: string;
const logs: string[] = [];

beforeAll(async () => {
  database = await startTestDatabase();
  db = database.db;
  account = await seedAccount(db, 'Texting Corp');
  smsc = await startTestSmsc({ systemId: 'texting', password: 'pw-not-in-logs', ackDelayMs: 1, receiptDelayMs: 2 });
  carrierId = await createSmsCarrier(db, box, account.accountId, {
    name: 'Test SMSC',
    trafficClass: 'a2p',
    host: '127.0.0.1',
    port: smsc.port,
    systemId: 'texting',
    password: 'pw-not-in-logs',
    windowSize: 10,
    segmentsPerSecond: 10_000,
    senderSegmentsPerSecond: 10_000,
    isDefault: true,
  });
  queue = createJobProducer(connection, prefix).queue('sms-send');
  gateway = new SmsGateway({
    db: async () => db,
    box: () => box,
    log: createLogger('sms-test', 'info', (line) => logs.push(line)),
    enqueue: (accountId, messageId) => enqueueSmsSend(queue, { accountId, messageId }),
    rateLimiter: new RedisSegmentRateLimiter(connection),
    // Short enough that the stall is noticed in a second, not the production ten.
    clientOptions: { responseTimeoutMs: 1500, reconnectInitialMs: 50, reconnectMaxMs: 400, throttleInitialMs: 20, throttleMaxMs: 200 },
  });
  worker = new Worker('sms-send', createSmsSendProcessor({ db: async () => db, gateway }), { connection: createRedisConnection(REDIS_URL), prefix, concurrency: 50 });
  await worker.waitUntilReady();
}, 120_000);

afterAll(async () => {
  await worker?.close();
  await gateway?.close();
  await queue?.close();
  await smsc?.close();
  await connection.quit();
  await deletePrefix(prefix);
  await database?.stop();
});

const until = async (cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 90_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const recipient = (i: number) => `+1646555${String(i).padStart(4, '0')}`;
const bodyOf = (i: number) =>
  i % 10 === 0
    ? `Campaign #${i}: ` + 'Our spring offers are here, with prices you will like. '.repeat(7).slice(0, 380)
    : i % 10 === 5
      ? `Campaign #${i}: merci, à bientôt 🌷`
      : `Campaign #${i}: your appointment is confirmed for tomorrow at 10:00.`;

async function statusCounts(): Promise<Record<string, number>> {
  const rows = await db.selectFrom('sms_messages').select(['status']).select((eb) => eb.fn.countAll<string>().as('n')).where('account_id', '=', account.accountId).groupBy('status').execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

describe('SMS campaign through a misbehaving SMSC', () => {
  it(`sends ${MESSAGES} texts exactly once through 3 drops, a stall and throttling, or says why not`, async () => {
    await smsc.waitForBinds(0);
    smsc.refuseDestination(recipient(7));
    smsc.undeliverable(recipient(8), '034');
    // A campaign picks its carrier once, and queues its rows in batches.
    const campaignCarrier = await chooseSmsCarrier(db, account.accountId, FROM, 'a2p');
    expect(campaignCarrier).toBe(carrierId);
    const ids: string[] = [];
    for (let start = 0; start < MESSAGES; start += 500) {
      const numbers = Array.from({ length: Math.min(500, MESSAGES - start) }, (_, k) => start + k);
      const created = await queueOutboundSmsBatch(
        db,
        numbers.map((i) => ({ accountId: account.accountId, userId: null, from: FROM, to: recipient(i), body: bodyOf(i), trafficClass: 'a2p', carrierId: campaignCarrier, idempotencyKey: `campaign-1:${i}` })),
      );
      expect(created.every((id) => id !== null)).toBe(true);
      ids.push(...(created as string[]));
      await queue.addBulk(created.map((messageId) => ({ name: 'send', data: { accountId: account.accountId, messageId: messageId! }, opts: { ...QUEUE_JOB_OPTIONS['sms-send'], jobId: messageId! } })));
    }
    // The same campaign row again creates nothing: the idempotency key is the message.
    expect(await queueOutboundSms(db, { accountId: account.accountId, userId: null, from: FROM, to: recipient(3), body: bodyOf(3), trafficClass: 'a2p', idempotencyKey: 'campaign-1:3' })).toEqual({ messageId: ids[3], created: false });
    expect(await queueOutboundSmsBatch(db, [{ accountId: account.accountId, userId: null, from: FROM, to: recipient(4), body: bodyOf(4), trafficClass: 'a2p', idempotencyKey: 'campaign-1:4' }])).toEqual([null]);
    // The trouble, paced by what the SMSC has taken rather than by the clock.
    const client = (await gateway.client(carrierId))!;
    await smsc.dropAfter(200);
    smsc.throttleNext(20);
    await smsc.dropAfter(300);
    await until(() => smsc.received.length >= 1100, 'the SMSC to take 1100 segments');
    const unknownBefore = client.stats.unknown;
    smsc.stall();
    await until(() => client.stats.unknown > unknownBefore, 'the client to notice the stall');
    smsc.resume();
    await smsc.dropAfter(300);

    await until(async () => {
      const c = await statusCounts();
      return !c.queued && !c.sending && !c.sent;
    }, 'every message to settle');

    const rows = await db.selectFrom('sms_messages').select(['id', 'to_number', 'body', 'status', 'reason', 'carrier_error_code']).where('account_id', '=', account.accountId).execute();
    expect(rows).toHaveLength(MESSAGES);
    const counts = smsc.deliveredCounts();
    for (const [k, n] of counts) expect(n, `copies of ${k}`).toBe(1);
    let unknown = 0;
    for (const row of rows) {
      const n = counts.get(`${row.to_number.slice(1)}|${row.body}`) ?? 0;
      if (row.status === 'delivered') expect(n, row.body).toBe(1);
      else if (row.status === 'unknown') {
        unknown++;
        expect(n).toBeLessThanOrEqual(1);
        // Unknown says which of the two incidents left it without an answer: the stall or a drop.
        expect(row.reason, row.body).toMatch(/^(no submit_sm_resp within \d+ ms|SMPP connection lost before the answer \(.+\))$/);
      } else {
        // Only the two numbers the SMSC was told to refuse fail, each with the carrier's own error.
        expect(row.status, row.body).toBe('failed');
        expect(n, row.body).toBe(row.to_number === recipient(8) ? 1 : 0);
        expect({ to: row.to_number, reason: row.reason, code: row.carrier_error_code }).toEqual(
          row.to_number === recipient(7)
            ? { to: recipient(7), reason: 'refused by the carrier: ESME_RINVDSTADR', code: 0x0b }
            : { to: recipient(8), reason: 'not delivered: UNDELIV', code: 34 },
        );
      }
    }
    // Unknown only for what was in the window when the link went (4 incidents, a window of 10 each; a stall may take two rounds).
    expect(unknown).toBeGreaterThan(0);
    expect(unknown).toBeLessThanOrEqual(60);
    const refused = rows.find((r) => r.to_number === recipient(7))!;
    expect(refused).toMatchObject({ status: 'failed', carrier_error_code: 0x0b });
    expect(counts.get(`${recipient(7).slice(1)}|${bodyOf(7)}`)).toBeUndefined();
    const undelivered = rows.find((r) => r.to_number === recipient(8))!;
    if (undelivered.status !== 'unknown') expect(undelivered).toMatchObject({ status: 'failed', reason: 'not delivered: UNDELIV', carrier_error_code: 34 });
    expect(smsc.throttledCount).toBe(20);
    expect(smsc.binds.length).toBeGreaterThanOrEqual(5);
    expect(logs.join('\n')).not.toContain('pw-not-in-logs');
  }, 180_000);

  it('honours STOP before the next send, answers HELP, and START lets texts through again', async () => {
    const customer = '+16465559999';
    const send = async (body: string, keyName: string) => {
      const { messageId } = await queueOutboundSms(db, { accountId: account.accountId, userId: null, from: FROM, to: customer, body, trafficClass: 'a2p', idempotencyKey: keyName });
      await enqueueSmsSend(queue, { accountId: account.accountId, messageId });
      await until(async () => {
        const row = await db.selectFrom('sms_messages').select('status').where('id', '=', messageId).executeTakeFirstOrThrow();
        return !['queued', 'sending', 'sent'].includes(row.status);
      }, `message ${keyName} to settle`);
      return db.selectFrom('sms_messages').selectAll().where('id', '=', messageId).executeTakeFirstOrThrow();
    };
    const takenBy = (body: string) => smsc.received.filter((r) => r.to === customer.slice(1) && r.text === body).length;

    expect((await send('Offer one', 'kw-1')).status).toBe('delivered');
    expect(await smsc.sendInbound(customer, FROM, 'Stop')).toEqual([0]);
    await until(() => takenBy(smsKeywordReply('opt-out', 'Texting Corp', 'en')) === 1, 'the STOP confirmation');
    const stopped = await send('Offer two', 'kw-2');
    expect(stopped).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^opted_out/) });
    expect(takenBy('Offer two')).toBe(0);
    expect(await db.selectFrom('sms_opt_outs').selectAll().where('account_id', '=', account.accountId).execute()).toMatchObject([{ business_number: FROM, phone_number: customer }]);

    const help = smsKeywordReply('help', 'Texting Corp', 'fr');
    expect(await smsc.sendInbound(customer, FROM, 'AIDE')).toEqual([0]);
    await until(() => takenBy(help) === 1, 'the HELP answer at the SMSC');

    expect(await smsc.sendInbound(customer, FROM, 'START')).toEqual([0]);
    await until(() => takenBy(smsKeywordReply('opt-in', 'Texting Corp', 'en')) === 1, 'the START answer');
    expect((await send('Offer three', 'kw-3')).status).toBe('delivered');
    expect(takenBy('Offer three')).toBe(1);

    // The texts received are stored in the customer's conversation: STOP, AIDE and START, each once.
    const inbound = await db.selectFrom('sms_messages').select(['body', 'status']).where('account_id', '=', account.accountId).where('direction', '=', 'inbound').where('from_number', '=', customer).orderBy('created_at').execute();
    expect(inbound).toEqual([
      { body: 'Stop', status: 'received' },
      { body: 'AIDE', status: 'received' },
      { body: 'START', status: 'received' },
    ]);
  }, 120_000);

  it('never resubmits a message an earlier run already handed to the SMSC (a worker that died mid-send): it is marked unknown', async () => {
    const { messageId } = await queueOutboundSms(db, { accountId: account.accountId, userId: null, from: FROM, to: '+16465556666', body: 'Handed over once', trafficClass: 'a2p', idempotencyKey: 'crashed-1' });
    // What a worker killed after the hand-over leaves behind: the row 'sending', the job back in the queue.
    await db.updateTable('sms_messages').set({ status: 'sending', carrier_id: carrierId }).where('id', '=', messageId).execute();
    await enqueueSmsSend(queue, { accountId: account.accountId, messageId });
    await until(async () => (await db.selectFrom('sms_messages').select('status').where('id', '=', messageId).executeTakeFirstOrThrow()).status !== 'sending', 'the retried job to settle it');
    expect(await db.selectFrom('sms_messages').select(['status', 'reason']).where('id', '=', messageId).executeTakeFirstOrThrow()).toEqual({ status: 'unknown', reason: expect.stringMatching(/not sent again/) });
    expect(smsc.received.filter((r) => r.text === 'Handed over once')).toHaveLength(0);
  });

  it("refuses to put a text in another account's conversation, and stores nothing", async () => {
    const other = await seedAccount(db, 'Other Corp');
    const theirs = await conversationFor(db, other.accountId, '+14155550199', ['+16465557777']);
    const attempt = { accountId: account.accountId, userId: null, from: FROM, to: '+16465557777', body: 'hi', trafficClass: 'p2p' as const, conversationId: theirs };
    await expect(queueOutboundSms(db, { ...attempt, idempotencyKey: 'cross-1' })).rejects.toThrow(SmsConversationNotFoundError);
    await expect(queueOutboundSmsBatch(db, [{ ...attempt, idempotencyKey: 'cross-2' }])).rejects.toThrow(SmsConversationNotFoundError);
    expect(await db.selectFrom('sms_messages').select('id').where('conversation_id', '=', theirs).execute()).toEqual([]);
    expect(await db.selectFrom('sms_messages').select('id').where('idempotency_key', 'in', ['cross-1', 'cross-2']).execute()).toEqual([]);
  });

  it('shows an inbound 3-part text as one message in its conversation', async () => {
    const text = 'Hello, I would like to move my appointment to next week if possible. '.repeat(6).slice(0, 400);
    expect(await smsc.sendInbound('+16465558888', FROM, text)).toEqual([0, 0, 0]);
    const rows = await db.selectFrom('sms_messages').innerJoin('sms_conversations', 'sms_conversations.id', 'sms_messages.conversation_id').select(['sms_messages.body', 'sms_messages.segments', 'sms_conversations.participants', 'sms_conversations.business_number']).where('sms_messages.account_id', '=', account.accountId).where('sms_messages.from_number', '=', '+16465558888').execute();
    expect(rows).toEqual([{ body: text, segments: 3, participants: ['+16465558888'], business_number: FROM }]);
  });
});
