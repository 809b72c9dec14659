import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createRedisConnection, requestWorkersHealth } from '@carillon/core/jobs';
import { QueueName } from '@carillon/contracts/jobs';
import { readWorkersHeartbeats } from '@carillon/contracts/workers-heartbeat';
import {
  deletePrefix,
  killIfRunning,
  REDIS_URL,
  spawnWorkers,
  uniquePrefix,
  waitFor,
  type Spawned,
} from './support.ts';

describe('requestWorkersHealth', () => {
  let worker: Spawned | undefined;
  const prefixes: string[] = [];
  const newPrefix = () => {
    const p = uniquePrefix();
    prefixes.push(p);
    return p;
  };

  afterEach(async () => {
    killIfRunning(worker);
    worker = undefined;
    await Promise.all(prefixes.splice(0).map(deletePrefix));
  });

  it('gets an answer from a running workers process', { timeout: 30_000 }, async () => {
    const prefix = newPrefix();
    worker = spawnWorkers(prefix);
    // No need to wait for "workers started": the job waits in the queue until a worker is up.
    const health = await requestWorkersHealth(REDIS_URL, 15_000, { prefix });

    expect(health, worker.stderr()).toMatchObject({ ok: true, pid: worker.child.pid });
    if (!health.ok) return;
    expect(health.workerId).toContain(String(worker.child.pid));
    expect(health.latencyMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(health.at)).not.toBeNaN();

    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
  });

  it(
    'returns ok:false within the timeout when no worker runs, leaving no job or connection behind',
    { timeout: 15_000 },
    async () => {
      const prefix = newPrefix();
      const started = performance.now();
      const health = await requestWorkersHealth(REDIS_URL, 1000, { prefix });
      const elapsed = performance.now() - started;

      expect(health.ok).toBe(false);
      if (health.ok) return;
      expect(health.reason).toMatch(/no worker/);
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(2000);

      // The unanswered ping was removed, so a worker starting later won't chew through stale ones.
      const connection = createRedisConnection(REDIS_URL);
      const queue = new Queue(QueueName.SystemHealth, { connection, prefix });
      try {
        expect(await queue.getJobCounts('waiting', 'active', 'delayed')).toEqual({
          waiting: 0,
          active: 0,
          delayed: 0,
        });
      } finally {
        await queue.close();
        await connection.quit();
      }

      // Every connection it opened is named after the prefix; none may survive the call.
      const admin = new Redis(REDIS_URL);
      try {
        await waitFor(
          async () => !String(await admin.client('LIST')).includes(`name=${prefix}`),
          1000,
          'the probe connections to close',
        );
      } finally {
        await admin.quit();
      }
    },
  );

  it('returns ok:false, not a hang or a throw, when Redis is unreachable', { timeout: 15_000 }, async () => {
    const started = performance.now();
    const health = await requestWorkersHealth('redis://127.0.0.1:1', 1000, { prefix: newPrefix() });

    expect(health.ok).toBe(false);
    if (health.ok) return;
    expect(health.reason).toMatch(/redis unreachable/);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('keeps a heartbeat from the moment the workers are ready, and removes it on shutdown', { timeout: 30_000 }, async () => {
    const prefix = newPrefix();
    worker = spawnWorkers(prefix);
    await worker.waitForOutput(/workers started/, 20_000);
    const redis = new Redis(REDIS_URL);
    try {
      // Written before "workers started" is logged: whoever waits for that line can read the health at once.
      expect(await readWorkersHeartbeats(redis, prefix)).toMatchObject([{ pid: worker.child.pid }]);
      // Another instance's workers are not this one's.
      expect(await readWorkersHeartbeats(redis, newPrefix())).toEqual([]);
      worker.child.kill('SIGTERM');
      expect((await worker.exited).code).toBe(0);
      expect(await readWorkersHeartbeats(redis, prefix)).toEqual([]);
    } finally {
      await redis.quit();
    }
  });
});
