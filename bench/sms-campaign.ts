/**
 * The campaign of the issue 18 acceptance at full size: N texts (10,000 by
 * default) through the real path (batch queueing, BullMQ `sms-send` jobs,
 * PostgreSQL or PGlite, the SMPP client) to the test SMSC, which drops every
 * connection 3 times mid-batch and stalls once. Prints the time to queue, the
 * time to send and settle, the peak RSS of this process (queue producer and
 * worker in one), and checks on the SMSC side that nothing was sent twice and
 * every message is delivered, failed or unknown with a reason.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 [TEST_POSTGRES_URL=postgres://…] npx node bench/sms-campaign.ts [messages]
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { Worker } from 'bullmq';
import { createLogger } from '@carillon/config';
import { secretBox } from '@carillon/core';
import { createJobProducer, createRedisConnection, enqueueSmsSend } from '@carillon/core/jobs';
import { createSmsCarrier, queueOutboundSmsBatch } from '@carillon/core/sms';
import { QUEUE_JOB_OPTIONS } from '@carillon/contracts/jobs';
import { createSmsSendProcessor } from '../workers/src/sms/sms-send-processor.ts';
import { SmsGateway } from '../workers/src/sms/sms-gateway.ts';
import { RedisSegmentRateLimiter } from '../workers/src/sms/segment-rate-limiter.ts';
import { deletePrefix, REDIS_URL, startTestDatabase, uniquePrefix } from '../workers/test/support.ts';
import { seedAccount } from '../workers/test/recording-export-support.ts';
import { startTestSmsc } from '../workers/test/test-smsc.ts';

const MESSAGES = Math.max(100, Number(process.argv[2] ?? 10_000));
const FROM = '+14155550100';
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

const database = await startTestDatabase();
const db = database.db;
const account = await seedAccount(db, 'Bench Texting');
const box = secretBox(randomBytes(32));
const smsc = await startTestSmsc({ systemId: 'bench', password: 'bench', ackDelayMs: 1, receiptDelayMs: 2 });
const carrierId = await createSmsCarrier(db, box, account.accountId, { name: 'SMSC', trafficClass: 'a2p', host: '127.0.0.1', port: smsc.port, systemId: 'bench', password: 'bench', segmentsPerSecond: 10_000, senderSegmentsPerSecond: 10_000 });
const prefix = uniquePrefix();
const connection = createRedisConnection(REDIS_URL);
const queue = createJobProducer(connection, prefix).queue('sms-send');
const gateway = new SmsGateway({
  db: async () => db,
  box: () => box,
  log: createLogger('bench', 'error'),
  enqueue: (accountId, messageId) => enqueueSmsSend(queue, { accountId, messageId }),
  rateLimiter: new RedisSegmentRateLimiter(connection),
  clientOptions: { responseTimeoutMs: 1500, reconnectInitialMs: 50, reconnectMaxMs: 400 },
});
const worker = new Worker('sms-send', createSmsSendProcessor({ db: async () => db, gateway }), { connection: createRedisConnection(REDIS_URL), prefix, concurrency: 50 });
await worker.waitUntilReady();
const rssIdle = process.memoryUsage().rss;

const body = (i: number) => (i % 10 === 0 ? `Bench #${i}: ` + 'Spring offers with prices you will like. '.repeat(9).slice(0, 370) : `Bench #${i}: your code is ${100000 + i}.`);
const started = performance.now();
for (let start = 0; start < MESSAGES; start += 1000) {
  const n = Math.min(1000, MESSAGES - start);
  const ids = await queueOutboundSmsBatch(
    db,
    Array.from({ length: n }, (_, k) => start + k).map((i) => ({ accountId: account.accountId, userId: null, from: FROM, to: `+1646${String(i).padStart(7, '0')}`, body: body(i), trafficClass: 'a2p' as const, carrierId, idempotencyKey: `bench:${i}` })),
  );
  await queue.addBulk(ids.map((messageId) => ({ name: 'send', data: { accountId: account.accountId, messageId: messageId! }, opts: { ...QUEUE_JOB_OPTIONS['sms-send'], jobId: messageId! } })));
}
const queuedS = (performance.now() - started) / 1000;

const until = async (cond: () => boolean | Promise<boolean>) => {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 50));
};
const total = MESSAGES * 1.2; // segments, roughly (a tenth are 3-part)
const client = (await gateway.client(carrierId))!;
await until(() => smsc.received.length >= total * 0.15);
await smsc.dropAfter(1);
await until(() => smsc.received.length >= total * 0.35);
await smsc.dropAfter(1);
await until(() => smsc.received.length >= total * 0.55);
const before = client.stats.unknown;
smsc.stall();
await until(() => client.stats.unknown > before);
smsc.resume();
await until(() => smsc.received.length >= total * 0.75);
await smsc.dropAfter(1);
const counts = async () =>
  Object.fromEntries(
    (await db.selectFrom('sms_messages').select('status').select((eb) => eb.fn.countAll<string>().as('n')).where('account_id', '=', account.accountId).groupBy('status').execute()).map((r) => [r.status, Number(r.n)]),
  ) as Record<string, number>;
await until(async () => {
  const c = await counts();
  return !c.queued && !c.sending && !c.sent;
});
const sentS = (performance.now() - started) / 1000;
const final = await counts();
const copies = [...smsc.deliveredCounts().values()];
const duplicated = copies.filter((n) => n > 1).length;
clearInterval(sampler);

console.log(`${os.cpus().length} cores (${os.cpus()[0]?.model}); load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; node ${process.version}; ${process.env.TEST_POSTGRES_URL ? 'PostgreSQL' : 'PGlite'}`);
console.log(`${MESSAGES} texts (${smsc.received.length} segments taken by the SMSC, ${smsc.binds.length} binds): queued in ${queuedS.toFixed(1)} s, all settled after ${sentS.toFixed(1)} s (${(MESSAGES / sentS).toFixed(0)} texts/s)`);
console.log(`statuses: ${JSON.stringify(final)}; duplicated at the SMSC: ${duplicated}`);
console.log(`RSS: ${(rssIdle / 1e6).toFixed(0)} MB before queueing, peak ${(peakRss / 1e6).toFixed(0)} MB`);

await worker.close();
await gateway.close();
await queue.close();
await smsc.close();
await connection.quit();
await deletePrefix(prefix);
await database.stop();
if (duplicated > 0) process.exit(1);
