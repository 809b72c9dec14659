import os from 'node:os';
import { Worker, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import { ConfigError, type Config, type Logger } from '@carillon/config';
import { createHealthProcessor } from './health-worker.ts';
import {
  createRedisConnection,
  type JobData,
  type JobResult,
  type QueueName,
} from './queues.ts';

interface QueueSpec<Q extends QueueName> {
  /** Jobs of this queue one process runs at once; `WORKER_CONCURRENCY_<QUEUE>` overrides it. */
  concurrency: number;
  processor: (workerId: string) => Processor<JobData<Q>, JobResult<Q>>;
}

/**
 * Every queue the service consumes. Typed as a mapped type over `QueueName`
 * so that a queue declared in queues.ts without an entry here fails to compile.
 */
export const QUEUE_SPECS: { [Q in QueueName]: QueueSpec<Q> } = {
  // Pings are instant; a few slots keep one slow (test) ping from delaying the rest.
  'system-health': { concurrency: 4, processor: createHealthProcessor },
};

/**
 * How long a shutdown waits for jobs in flight. Kept under Docker's default
 * 10 s stop grace period so we exit on our own terms rather than by SIGKILL;
 * jobs still running then are re-queued by BullMQ's stalled-job check once
 * their lock expires.
 */
export const SHUTDOWN_TIMEOUT_MS = 8000;

export const queueNames = (): QueueName[] => Object.keys(QUEUE_SPECS) as QueueName[];

/** `system-health` → `WORKER_CONCURRENCY_SYSTEM_HEALTH`. */
export function concurrencyVariable(queue: QueueName): string {
  return `WORKER_CONCURRENCY_${queue.toUpperCase().replaceAll('-', '_')}`;
}

export interface WorkerSettings {
  redisUrl: string;
  prefix: string;
  concurrency: Record<QueueName, number>;
}

/**
 * What the workers service needs beyond the shared config. Throws a
 * ConfigError naming every bad variable, so the operator fixes them in one go.
 * The per-queue variables can't live in the shared schema: their names follow
 * the queue list.
 */
export function readWorkerSettings(
  config: Pick<Config, 'REDIS_URL' | 'QUEUE_PREFIX'>,
  env: NodeJS.ProcessEnv,
): WorkerSettings {
  const issues: { variable: string; message: string }[] = [];
  const redisUrl = config.REDIS_URL;
  if (!redisUrl) {
    issues.push({
      variable: 'REDIS_URL',
      message: 'required by the workers service (e.g. redis://127.0.0.1:6379)',
    });
  }
  const prefix = config.QUEUE_PREFIX;
  const concurrency = {} as Record<QueueName, number>;
  for (const queue of queueNames()) {
    const variable = concurrencyVariable(queue);
    const raw = env[variable]?.trim();
    if (!raw) {
      concurrency[queue] = QUEUE_SPECS[queue].concurrency;
    } else if (/^[0-9]+$/.test(raw) && Number.isSafeInteger(Number(raw)) && Number(raw) >= 1) {
      concurrency[queue] = Number(raw);
    } else {
      issues.push({ variable, message: 'must be a positive integer' });
    }
  }
  if (!redisUrl || issues.length > 0) throw new ConfigError(issues);
  return { redisUrl, prefix, concurrency };
}

export interface WorkerRuntime {
  readonly workerId: string;
  /** Settles once every worker is connected; rejects if Redis refuses BullMQ (e.g. too old). */
  readonly ready: Promise<void>;
  /**
   * Stops fetching jobs and lets the ones in flight finish, for at most
   * `timeoutMs`. A job arriving just then may still be handed to this worker
   * by a fetch already under way; it is run like the others. 'timed-out'
   * means some were abandoned to the stalled-job check.
   */
  shutdown(timeoutMs: number): Promise<'drained' | 'timed-out'>;
}

/**
 * Starts one BullMQ Worker per queue on a shared connection. Returns at once
 * (not after connecting) so that a shutdown signal during a long wait for
 * Redis is still honoured.
 */
export function startWorkers(settings: WorkerSettings, log: Logger): WorkerRuntime {
  // Stored on each job BullMQ processes (job.processedBy) and in the connection name: says who ran what.
  const workerId = `${os.hostname()}-${process.pid}`;
  const connection = createRedisConnection(settings.redisUrl);
  const { reportError, clearError } = errorReporter(log);
  connection.on('error', reportError);
  connection.on('ready', () => {
    if (clearError()) log.info('redis connection restored');
  });

  const workers = queueNames().map((queue) =>
    startQueueWorker(queue, {
      connection,
      workerId,
      prefix: settings.prefix,
      concurrency: settings.concurrency[queue],
      log,
      reportError,
    }),
  );
  const ready = Promise.all(workers.map((w) => w.waitUntilReady())).then(() => undefined);

  return {
    workerId,
    ready,
    async shutdown(timeoutMs) {
      // close() stops fetching, then waits for active jobs (their locks keep being renewed meanwhile).
      const drained = Promise.all(workers.map((w) => w.close())).then(() => 'drained' as const);
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<'timed-out'>(
        (resolve) => (timer = setTimeout(resolve, timeoutMs, 'timed-out')),
      );
      const outcome = await Promise.race([drained, limit]);
      clearTimeout(timer);
      if (outcome === 'drained' && connection.status === 'ready') {
        await connection.quit().catch(() => connection.disconnect());
      } else {
        connection.disconnect();
      }
      return outcome;
    },
  };
}

interface QueueWorkerContext {
  connection: Redis;
  workerId: string;
  prefix: string;
  concurrency: number;
  log: Logger;
  reportError: (err: Error) => void;
}

function startQueueWorker<Q extends QueueName>(
  queue: Q,
  ctx: QueueWorkerContext,
): Worker<JobData<Q>, JobResult<Q>> {
  const log = ctx.log.child(queue);
  const worker = new Worker<JobData<Q>, JobResult<Q>>(queue, QUEUE_SPECS[queue].processor(ctx.workerId), {
    // BullMQ duplicates this for its blocking fetch and leaves the original to us.
    connection: ctx.connection,
    prefix: ctx.prefix,
    concurrency: ctx.concurrency,
    name: ctx.workerId,
  });
  worker.on('error', ctx.reportError);
  // Job data is never logged: it may carry personal data (messages, recordings).
  worker.on('failed', (job, err) =>
    log.warn('job failed', {
      jobId: job?.id,
      name: job?.name,
      attemptsMade: job?.attemptsMade,
      error: err.message,
    }),
  );
  worker.on('stalled', (jobId) => log.warn('job stalled: its worker went away, re-queued', { jobId }));
  worker.on('completed', (job) => log.debug('job completed', { jobId: job.id, name: job.name }));
  return worker;
}

/** A Redis outage makes every client repeat the same error on each retry: log it once until it clears. */
function errorReporter(log: Logger): { reportError: (err: Error) => void; clearError: () => boolean } {
  let last = '';
  return {
    reportError: (err) => {
      if (err.message === last) return;
      last = err.message;
      log.error('redis or queue error', { error: err });
    },
    clearError: () => {
      const hadError = last !== '';
      last = '';
      return hadError;
    },
  };
}
