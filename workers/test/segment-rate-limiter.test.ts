import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@carillon/config';
import { createRedisConnection } from '@carillon/core/jobs';
import { splitSms } from '@carillon/domain';
import { DEFAULT_SMPP_CLIENT_OPTIONS, SmppClient } from '../src/sms/smpp-client.ts';
import { burstFor, RedisSegmentRateLimiter } from '../src/sms/segment-rate-limiter.ts';
import { REDIS_URL } from './support.ts';
import { startTestSmsc } from './test-smsc.ts';

/**
 * The segment rate limits in Redis (one Lua script for the bind's and the
 * sender's bucket): the arithmetic on a clock the test sets, then two SMPP
 * clients on two Redis connections (as two workers processes would be)
 * sending for one sender through the test SMSC, the rate measured there.
 */
const connections = [createRedisConnection(REDIS_URL), createRedisConnection(REDIS_URL)];
afterAll(async () => {
  await Promise.all(connections.map((c) => c.quit()));
});

describe('segment rate limiter (Redis token buckets)', () => {
  it('allows the burst, then one segment per 1/rate s; a sender refused spends nothing of the bind', async () => {
    let now = 1_000_000;
    const limiter = new RedisSegmentRateLimiter(connections[0]!, () => now);
    const carrier = randomUUID();
    const limits = { segmentsPerSecond: 100, senderSegmentsPerSecond: 20 };
    expect(burstFor(20)).toBe(2);
    expect(await limiter.take(carrier, '+14155550100', 1, limits)).toEqual({ granted: 1 });
    expect(await limiter.take(carrier, '14155550100', 1, limits)).toEqual({ granted: 1 });
    // '+' or not, the same sender: its burst of 2 is spent, a token every 50 ms.
    expect(await limiter.take(carrier, '+14155550100', 1, limits)).toEqual({ granted: 0, blockedBy: 'sender', waitMs: 50 });
    // The bind (burst 10) lost only the 2 taken: 8 more for other senders, then it is the bind that refuses.
    for (let i = 0; i < 8; i++) expect(await limiter.take(carrier, `+1646555000${i}`, 1, limits)).toEqual({ granted: 1 });
    expect(await limiter.take(carrier, '+16465550009', 1, limits)).toEqual({ granted: 0, blockedBy: 'bind', waitMs: 10 });
    now += 10;
    expect(await limiter.take(carrier, '+16465550009', 1, limits)).toEqual({ granted: 1 });
    now += 45;
    // 55 ms: the sender has one token again (and a tenth): asked for 5, it is granted the 1 it holds.
    expect(await limiter.take(carrier, '+14155550100', 5, limits)).toEqual({ granted: 1 });
    now += 100;
    // 100 ms later, its full burst of 2, and never more.
    expect(await limiter.take(carrier, '+14155550100', 5, limits)).toEqual({ granted: 2 });
    // Another carrier's buckets are its own.
    expect(await limiter.take(randomUUID(), '+14155550100', 1, limits)).toEqual({ granted: 1 });
    await expect(limiter.take(carrier, '+14155550100', 1, { segmentsPerSecond: 0, senderSegmentsPerSecond: 1 })).rejects.toThrow(RangeError);
    await expect(limiter.take(carrier, '+14155550100', 0, limits)).rejects.toThrow(RangeError);
  });

  it('keeps two clients on separate Redis connections, sending for one sender, within its rate together (±10 %)', { timeout: 60_000 }, async () => {
    const smsc = await startTestSmsc({ systemId: 'rate', password: 'rate-pw', ackDelayMs: 1, receiptDelayMs: null });
    const carrier = randomUUID();
    const rate = 100;
    const clients = connections.map(
      (redis) =>
        new SmppClient({
          ...DEFAULT_SMPP_CLIENT_OPTIONS,
          host: '127.0.0.1',
          port: smsc.port,
          systemId: 'rate',
          password: 'rate-pw',
          segmentsPerSecond: 10_000,
          senderSegmentsPerSecond: rate,
          rateLimiter: new RedisSegmentRateLimiter(redis),
          rateLimitKey: carrier,
          log: createLogger('rate-test', 'warn', () => undefined),
          onReceipt: async () => undefined,
          onInbound: async () => undefined,
        }),
    );
    try {
      for (const c of clients) c.start();
      await smsc.waitForBinds(2);
      // Each client alone would send at the full rate: 150 messages each, 300 together, one sender.
      const perClient = 150;
      const outcomes = await Promise.all(
        clients.flatMap((c, k) => Array.from({ length: perClient }, (_, i) => c.submit({ from: '+14155550100', to: `+1646555${k}${String(i).padStart(3, '0')}`, split: splitSms(`rate ${k}-${i}`, 0) }))),
      );
      expect(outcomes.every((o) => o.status === 'accepted')).toBe(true);
      const times = smsc.received.map((r) => r.receivedAt).sort((a, b) => a - b);
      expect(times).toHaveLength(2 * perClient);
      // Both clients sent: the limit is shared, not one client starved by a stale local view.
      expect(clients.every((c) => c.stats.written > perClient / 2)).toBe(true);
      // The burst goes at once; after it, the rest at the rate.
      const burst = burstFor(rate);
      const measured = (times.length - burst) / ((times.at(-1)! - times[burst - 1]!) / 1000);
      expect(measured).toBeGreaterThan(rate * 0.9);
      expect(measured).toBeLessThan(rate * 1.1);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await smsc.close();
    }
  });
});
