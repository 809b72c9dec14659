import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_CHANGES_CHANNEL, queueCallersKey, queueDayFigures, queueDayKey, queueEntryKey, queueMemberKey } from '@carillon/contracts/call-queues';
import { nextHandleTimeMs } from '@carillon/domain';
import { RedisQueueState } from '../../src/calls/queue-state-redis.ts';
import { redisClient } from '../../../tests/support/env.ts';

/** The queues' shared state on the real Redis: the order, the bound, dead entries, members' marks. */
let redis: Redis;
let state: RedisQueueState;
beforeAll(() => {
  redis = redisClient();
  state = new RedisQueueState(redis);
});
afterAll(() => redis.disconnect());

describe('the queue state in Redis', () => {
  it('keeps callers in order of arrival, bounded by the maximum of callers', async () => {
    const q = randomUUID();
    expect(await state.join(q, 'a', 2)).toBe(0);
    expect(await state.join(q, 'b', 2)).toBe(1);
    expect(await state.join(q, 'c', 2)).toBe('full');
    expect(await state.waiting(q)).toBe(2);
    await state.leave(q, 'a');
    expect(await state.join(q, 'c', 2)).toBe(1);
  });

  it('offers a caller only when nobody ahead still waits for an offer', async () => {
    const q = randomUUID();
    await state.join(q, 'a', 25);
    await state.join(q, 'b', 25);
    expect(await state.isNext(q, 'a')).toBe(true);
    expect(await state.isNext(q, 'b')).toBe(false);
    await state.keepAlive(q, 'a', 'offering');
    expect(await state.isNext(q, 'b')).toBe(true);
    await state.keepAlive(q, 'a', 'waiting');
    expect(await state.isNext(q, 'b')).toBe(false);
    await state.leave(q, 'a');
    expect(await state.isNext(q, 'b')).toBe(true);
    // An entry that has left is not brought back by a late keep-alive.
    await state.keepAlive(q, 'a', 'waiting');
    expect(await redis.exists(queueEntryKey(q, 'a'))).toBe(0);
  });

  it('drops a caller whose node stopped keeping it alive: its place goes to the next', async () => {
    const q = randomUUID();
    await state.join(q, 'a', 1);
    await state.entered(randomUUID(), q, 'a', { number: '201', name: null }, '2026-12-07');
    expect(await state.join(q, 'b', 1)).toBe('full');
    // The node of 'a' died: its entry expired.
    await redis.del(queueEntryKey(q, 'a'));
    expect(await state.isNext(q, 'b')).toBe(false);
    expect(await state.join(q, 'b', 1)).toBe(0);
    // The supervisor view's record of 'a' went with it.
    expect(await redis.hexists(queueCallersKey(q), 'a')).toBe(0);
  });

  it('lets one caller take a member at a time; only the owner releases it, at once or after wrap-up', async () => {
    const account = randomUUID();
    const member = randomUUID();
    expect(await state.claim(account, member, 'call-1', 10_000)).toBe(true);
    expect(await state.claim(account, member, 'call-2', 10_000)).toBe(false);
    expect(await state.takenMembers(account, [member, randomUUID()])).toEqual(new Set([member]));
    // Another caller's release does not free it.
    await state.release(account, member, 'call-2', 0);
    expect(await redis.get(queueMemberKey(account, member))).toBe('offered:call-1');
    await state.markBusy(account, member, 'call-1');
    expect(await redis.get(queueMemberKey(account, member))).toBe('busy:call-1');
    await state.release(account, member, 'call-1', 300);
    expect(await redis.get(queueMemberKey(account, member))).toBe('wrap-up:call-1');
    expect(await state.claim(account, member, 'call-2', 10_000)).toBe(false);
    await expect.poll(() => state.claim(account, member, 'call-2', 10_000), { timeout: 5_000, interval: 50 }).toBe(true);
    await state.release(account, member, 'call-2', 0);
    expect(await state.takenMembers(account, [member])).toEqual(new Set());
  });

  it('keeps the rotating pointer per queue', async () => {
    const q = randomUUID();
    expect(await state.rotor(q)).toBeNull();
    await state.setRotor(q, 'm2');
    expect(await state.rotor(q)).toBe('m2');
  });
});

describe('the queue state in Redis: places and handle time', () => {
  it('tells a caller its place, and none once it has left', async () => {
    const q = randomUUID();
    await state.join(q, 'a', 25);
    await state.join(q, 'b', 25);
    expect(await state.position(q, 'b')).toBe(1);
    await state.leave(q, 'a');
    expect(await state.position(q, 'b')).toBe(0);
    expect(await state.position(q, 'a')).toBeNull();
  });

  it('keeps a running handle time as the domain rule computes it', async () => {
    const q = randomUUID();
    expect(await state.handleTime(q)).toBeNull();
    await state.recordHandleTime(q, 120_000);
    await state.recordHandleTime(q, 60_000);
    expect(await state.handleTime(q)).toBe(nextHandleTimeMs(nextHandleTimeMs(null, 120_000), 60_000));
  });

  it('keeps who waits, and counts the day\'s figures: entered, answered, abandoned, callbacks, the average and longest wait', async () => {
    const q = randomUUID();
    const account = randomUUID();
    const sub = redis.duplicate();
    const told: string[] = [];
    await sub.subscribe(QUEUE_CHANGES_CHANNEL);
    sub.on('message', (_c: string, m: string) => m === account && told.push(m));
    try {
      const day = '2026-12-07';
      expect(queueDayFigures(await redis.hgetall(queueDayKey(q, day)))).toEqual({ entered: 0, answered: 0, abandoned: 0, callbacks: 0, averageWaitSeconds: null, longestWaitSeconds: null });
      for (const id of ['a', 'b', 'c', 'd']) await state.entered(account, q, id, { number: `+3312345678${id.charCodeAt(0) - 97}`, name: id === 'a' ? 'Ada' : null }, day);
      const callers = await redis.hgetall(queueCallersKey(q));
      expect(Object.keys(callers).sort()).toEqual(['a', 'b', 'c', 'd']);
      expect(JSON.parse(callers.a!)).toMatchObject({ number: '+33123456780', name: 'Ada', joinedAt: expect.any(Number) as number });
      await state.left(account, q, 'a', 'answered', 10_000, day);
      await state.left(account, q, 'b', 'abandoned', 50_000, day);
      await state.left(account, q, 'c', 'callback', 30_000, day);
      await state.left(account, q, 'd', 'sent_on', 30_000, day);
      expect(Object.keys(await redis.hgetall(queueCallersKey(q)))).toEqual([]);
      // The next day starts from nothing.
      await state.entered(account, q, 'e', { number: null, name: null }, '2026-12-08');
      expect(queueDayFigures(await redis.hgetall(queueDayKey(q, day)))).toEqual({ entered: 4, answered: 1, abandoned: 1, callbacks: 1, averageWaitSeconds: 30, longestWaitSeconds: 50 });
      expect(queueDayFigures(await redis.hgetall(queueDayKey(q, '2026-12-08')))).toMatchObject({ entered: 1, answered: 0 });
      expect(await redis.pttl(queueDayKey(q, day))).toBeGreaterThan(24 * 3600_000);
      // Each change told the app's supervisor views (the account's id on the channel).
      await expect.poll(() => told.length).toBe(9);
    } finally {
      sub.disconnect();
    }
  });
});
