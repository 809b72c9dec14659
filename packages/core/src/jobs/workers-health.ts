import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, type Job, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { QUEUE_JOB_OPTIONS, QUEUE_PREFIX, QueueName, type HealthJobData, type HealthJobResult } from '@carillon/contracts/jobs';

/**
 * An ioredis connection usable by BullMQ. `maxRetriesPerRequest: null` is
 * required for workers: their blocking commands must wait out a Redis restart
 * rather than fail after a fixed number of retries.
 */
export function createRedisConnection(
  url: string,
  options: Omit<RedisOptions, 'maxRetriesPerRequest'> = {},
): Redis {
  return new Redis(url, { ...options, maxRetriesPerRequest: null });
}

export type WorkersHealth =
  { ok: true; workerId: string; pid: number; latencyMs: number; at: string } | { ok: false; reason: string };

export interface RequestWorkersHealthOptions {
  /** BullMQ prefix; defaults to `QUEUE_PREFIX`. */
  prefix?: string;
}

// Health jobs are only worth their answer: keep a few for inspection, never let them pile up.
const HEALTH_JOB_OPTIONS: JobsOptions = QUEUE_JOB_OPTIONS['system-health'];

// Bounds each clean-up step so that a Redis that went away can't hold the caller.
const CLEANUP_STEP_MS = 1000;

// How often the probe reads its job back. Polling, not QueueEvents: a fresh
// QueueEvents reads the event stream from '$' only once its XREAD reaches Redis,
// which may be after a fast worker already completed the job (its
// waitUntilReady() only means "connected"), and then no answer ever comes.
const POLL_MS = 25;

/**
 * Asks the workers service to answer a `system-health` job and waits for it,
 * up to `timeoutMs`. Never throws: a missing worker, an unreachable Redis or a
 * failed job all come back as `{ ok: false, reason }`. Every connection it
 * opens is closed before it returns. `latencyMs` runs from the enqueue to the
 * answer, so it excludes connecting to Redis.
 */
export async function requestWorkersHealth(
  redisUrl: string,
  timeoutMs = 5000,
  options: RequestWorkersHealthOptions = {},
): Promise<WorkersHealth> {
  const prefix = options.prefix ?? QUEUE_PREFIX;
  const deadline = performance.now() + timeoutMs;
  let redisError: Error | undefined;
  const connection = createRedisConnection(redisUrl, {
    connectionName: `${prefix}:health-probe`,
    connectTimeout: Math.max(timeoutMs, 100),
    // Giving up at the deadline keeps the queue's close() from waiting forever
    // on a Redis that is down.
    retryStrategy: (times) => (performance.now() < deadline ? Math.min(times * 100, 500) : null),
  });
  connection.on('error', (err: Error) => (redisError = err));
  const queue = new Queue<HealthJobData, HealthJobResult>(QueueName.SystemHealth, { connection, prefix });
  // Connection errors are reported through `redisError`; without listeners they would be thrown.
  queue.on('error', (err: Error) => (redisError = err));
  let timedOutAlready = false;

  let job: Job<HealthJobData, HealthJobResult> | undefined;
  let workerCount: number | undefined;
  const probe = async (): Promise<WorkersHealth> => {
    await queue.waitUntilReady();
    // Only used to explain a timeout; CLIENT LIST is refused by some hosted Redis.
    queue.getWorkersCount().then(
      (n) => (workerCount = n),
      () => undefined,
    );
    const started = performance.now();
    job = await queue.add('ping', { requestedAt: new Date().toISOString() }, HEALTH_JOB_OPTIONS);
    const id = job.id!;
    let result: HealthJobResult | undefined;
    while (!timedOutAlready) {
      const current = await queue.getJob(id);
      if (!current) throw new Error('the health job disappeared');
      if (current.failedReason && current.finishedOn) throw new Error(current.failedReason);
      if (current.finishedOn) {
        result = current.returnvalue;
        break;
      }
      await sleep(POLL_MS);
    }
    if (!result) throw new Error('abandoned');
    return {
      ok: true,
      workerId: result.workerId,
      pid: result.pid,
      at: result.at,
      latencyMs: Math.round(performance.now() - started),
    };
  };

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, timeoutMs, 'timeout')));
  void timedOut.then(() => (timedOutAlready = true));
  const running = probe();
  // Once the deadline wins, the abandoned probe stops polling or fails on the closed queue; either is expected.
  running.catch(() => undefined);
  try {
    const outcome = await Promise.race([running, timedOut]).catch((err: unknown): WorkersHealth => ({
      ok: false,
      reason: `health job failed: ${messageOf(err)}`,
    }));
    if (outcome !== 'timeout') return outcome;
    if (job) {
      // No worker took it in time: remove it so that a worker starting later
      // doesn't work through a backlog of stale pings. If a worker took it in
      // the meantime the job is locked and removal fails, which is harmless.
      await within(job.remove(), CLEANUP_STEP_MS).catch(() => undefined);
    }
    if (!job && redisError) return { ok: false, reason: `redis unreachable: ${redisError.message}` };
    if (workerCount === 0) {
      return {
        ok: false,
        reason: `no worker is consuming ${QueueName.SystemHealth} (waited ${timeoutMs} ms)`,
      };
    }
    return { ok: false, reason: `no answer from the workers within ${timeoutMs} ms` };
  } finally {
    clearTimeout(timer);
    await within(queue.close(), CLEANUP_STEP_MS).catch(() => undefined);
    // The queue shares this connection and leaves it to us.
    if (connection.status === 'ready') {
      await within(connection.quit(), CLEANUP_STEP_MS).catch(() => connection.disconnect());
    } else {
      connection.disconnect();
    }
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Resolves like `promise`, or rejects once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up after ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}
