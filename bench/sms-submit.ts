/**
 * SMPP submit rate (issue 18 benchmarks): the workers' SMPP client against the
 * test SMSC on loopback (workers/test/test-smsc.ts), no database, so the
 * figure is the protocol path alone. The rate limits are the service's: token
 * buckets in Redis (REDIS_URL), asked before each segment.
 *   1. Sustained submit_sm rate with a window of 10 and of 50, the SMSC
 *      answering after `ackDelayMs` (1 ms: a fast local SMSC; 20 ms: a carrier
 *      a few hops away, where the window is what sets the rate).
 *   2. Accuracy of the rate limiter: the bind set to 100 segments/s, measured
 *      over `seconds`; then one sender set to 100 segments/s with two clients on
 *      two Redis connections (two workers processes) sending for it together.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npx node bench/sms-submit.ts [messages, default 5000] [seconds for the limiter, default 10]
 */
import os from 'node:os';
import { createLogger } from '@carillon/config';
import { splitSms } from '@carillon/domain';
import { DEFAULT_SMPP_CLIENT_OPTIONS, SmppClient } from '../workers/src/sms/smpp-client.ts';
import { startTestSmsc } from '../workers/test/test-smsc.ts';
import { randomUUID } from 'node:crypto';
import { createRedisConnection } from '@carillon/core/jobs';
import { burstFor, RedisSegmentRateLimiter } from '../workers/src/sms/segment-rate-limiter.ts';
import { REDIS_URL } from '../workers/test/support.ts';

const messages = Math.max(100, Number(process.argv[2] ?? 5000));
const limiterSeconds = Math.max(2, Number(process.argv[3] ?? 10));
const log = createLogger('bench', 'error');

const redis = [createRedisConnection(REDIS_URL), createRedisConnection(REDIS_URL)];

/**
 * `clients` SMPP clients (each on its own Redis connection, as separate processes would be) share
 * one carrier's buckets and send `count` messages from one sender between them. The rate is
 * measured at the SMSC, after the burst.
 */
async function run(windowSize: number, ackDelayMs: number, count: number, limits: { segmentsPerSecond: number; senderSegmentsPerSecond: number }, clients = 1): Promise<{ perSecond: number; seconds: number }> {
  const smsc = await startTestSmsc({ systemId: 'bench', password: 'bench', ackDelayMs, receiptDelayMs: null });
  const rateLimitKey = randomUUID();
  const senders = Array.from({ length: clients }, (_, k) =>
    new SmppClient({
      ...DEFAULT_SMPP_CLIENT_OPTIONS,
      host: '127.0.0.1',
      port: smsc.port,
      systemId: 'bench',
      password: 'bench',
      windowSize,
      ...limits,
      rateLimiter: new RedisSegmentRateLimiter(redis[k % redis.length]!),
      rateLimitKey,
      log,
      onReceipt: async () => undefined,
      onInbound: async () => undefined,
    }),
  );
  for (const c of senders) c.start();
  await smsc.waitForBinds(clients);
  const split = splitSms('Your code is 123456. It expires in 10 minutes.', 0);
  const started = performance.now();
  const outcomes = await Promise.all(Array.from({ length: count }, (_, i) => senders[i % clients]!.submit({ from: '+14155550100', to: `+1646${String(i).padStart(7, '0')}`, split })));
  if (outcomes.some((o) => o.status !== 'accepted')) throw new Error('a submit was not accepted');
  const times = smsc.received.map((r) => r.receivedAt).sort((x, y) => x - y);
  const burst = burstFor(Math.min(limits.segmentsPerSecond, limits.senderSegmentsPerSecond));
  const limited = limits.segmentsPerSecond < 100_000;
  const seconds = limited ? (times.at(-1)! - times[burst - 1]!) / 1000 : (performance.now() - started) / 1000;
  await Promise.all(senders.map((c) => c.close()));
  await smsc.close();
  return { perSecond: (limited ? count - burst : count) / seconds, seconds };
}

console.log(`${os.cpus().length} cores (${os.cpus()[0]?.model}); load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; node ${process.version}`);
const unlimited = { segmentsPerSecond: 100_000, senderSegmentsPerSecond: 100_000 };
for (const ackDelayMs of [1, 20]) {
  for (const windowSize of [10, 50]) {
    const { perSecond, seconds } = await run(windowSize, ackDelayMs, messages, unlimited);
    console.log(`window ${String(windowSize).padStart(2)}, SMSC answers after ${String(ackDelayMs).padStart(2)} ms: ${messages} submit_sm in ${seconds.toFixed(2)} s = ${perSecond.toFixed(0)} messages/s`);
  }
}
const bindLimited = await run(10, 1, 100 * limiterSeconds, { segmentsPerSecond: 100, senderSegmentsPerSecond: 100_000 });
console.log(`bind limit 100 segments/s, ${100 * limiterSeconds} segments, one client: measured ${bindLimited.perSecond.toFixed(1)} segments/s after the burst, over ${bindLimited.seconds.toFixed(2)} s`);
const senderLimited = await run(10, 1, 100 * limiterSeconds, { segmentsPerSecond: 100_000, senderSegmentsPerSecond: 100 }, 2);
console.log(`sender limit 100 segments/s, ${100 * limiterSeconds} segments, two clients on two Redis connections: measured ${senderLimited.perSecond.toFixed(1)} segments/s after the burst, over ${senderLimited.seconds.toFixed(2)} s`);
await Promise.all(redis.map((r) => r.quit()));
