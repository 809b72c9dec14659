import { afterEach, describe, expect, it } from 'vitest';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedisConnection } from '@carillon/core/jobs';
import { QueueName, type HealthJobData, type HealthJobResult } from '@carillon/contracts/jobs';
import {
  deletePrefix,
  killIfRunning,
  REDIS_URL,
  spawnWorkers,
  uniquePrefix,
  waitFor,
  type Spawned,
} from './support.ts';

describe('workers graceful shutdown', () => {
  let worker: Spawned | undefined;
  let prefix: string | undefined;
  const closers: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    killIfRunning(worker);
    worker = undefined;
    for (const close of closers.splice(0).reverse()) await close();
    if (prefix) await deletePrefix(prefix);
    prefix = undefined;
  });

  it(
    'finishes the job in flight on SIGTERM, leaves no job half-done, and exits 0',
    { timeout: 30_000 },
    async () => {
      prefix = uniquePrefix();
      const connection: Redis = createRedisConnection(REDIS_URL);
      const queue = new Queue<HealthJobData, HealthJobResult>(QueueName.SystemHealth, { connection, prefix });
      const events = new QueueEvents(QueueName.SystemHealth, { connection, prefix });
      closers.push(
        () => connection.quit(),
        () => queue.close(),
        () => events.close(),
      );
      await events.waitUntilReady();

      worker = spawnWorkers(prefix);
      await worker.waitForOutput(/"workers started"/);

      const slow = await queue.add('slow-ping', { requestedAt: new Date().toISOString(), delayMs: 2000 });
      await waitFor(async () => (await slow.getState()) === 'active', 5000, 'the slow job to start');

      const signalledAt = Date.now();
      worker.child.kill('SIGTERM');
      await worker.waitForOutput(/shutting down/, 5000);
      // Enqueued while the worker drains. BullMQ may still hand it to the closing worker
      // (a blocking fetch already in flight returns it); either way it must not be lost.
      const late = await queue.add('late-ping', { requestedAt: new Date().toISOString() });

      const result = await slow.waitUntilFinished(events, 10_000);
      const exit = await worker.exited;

      expect(exit, worker.stderr()).toMatchObject({ code: 0, signal: null });
      expect(result.pid).toBe(worker.child.pid);
      const finished = await Job.fromId(queue, slow.id!);
      expect(await finished?.getState()).toBe('completed');
      // The job really was cut across by the signal: it ended after it and before the exit.
      expect(finished?.finishedOn).toBeGreaterThanOrEqual(signalledAt);
      expect(finished?.finishedOn).toBeLessThanOrEqual(exit.at);
      // Never 'active': that would be a job abandoned until the stalled check rescues it.
      expect(['waiting', 'completed']).toContain(await late.getState());
      expect(worker.stdout()).toContain('stopped cleanly');
    },
  );
});
