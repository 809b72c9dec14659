import os from 'node:os';
import { UnrecoverableError, Worker, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import { ConfigError, type Config, type Logger } from '@carillon/config';
import { createMailer } from '@carillon/core';
import { openDatabase, type Db } from '@carillon/db';
import { createHealthProcessor } from './health-worker.ts';
import { createEmailProcessor } from './email-worker.ts';
import { createJobProducer, type JobProducer } from '@carillon/core/jobs';
import { ffmpegPath } from './transcription/audio.ts';
import { createTranscriptionProcessor } from './transcription/processor.ts';
import { selectTranscriptionEngine } from './transcription/select-engine.ts';
import { createRecordingExportProcessor } from './recording-export/recording-export-processor.ts';
import { createFaxProcessor } from './fax/fax-processor.ts';
import { createTemplateApplyProcessor } from './templates/template-apply-processor.ts';
import { startEmailToFax, type EmailToFaxServer } from './fax/email-to-fax.ts';
import { JOB_DATA_SCHEMAS, type JobData, type JobResult, type QueueName } from '@carillon/contracts/jobs';
import { createRedisConnection } from '@carillon/core/jobs';
import { startWorkersHeartbeat } from './heartbeat.ts';

/** What a processor may use; the database is opened on first use, so health-only runs need none. */
export interface ProcessorContext {
  workerId: string;
  config: Config;
  log: Logger;
  db: () => Promise<Db>;
  producer: JobProducer;
}

interface QueueSpec<Q extends QueueName> {
  /** Jobs of this queue one process runs at once; `WORKER_CONCURRENCY_<QUEUE>` overrides it. */
  concurrency: number;
  processor: (ctx: ProcessorContext) => Processor<JobData<Q>, JobResult<Q>>;
}

/**
 * Every queue the service consumes. Typed as a mapped type over `QueueName`
 * so that a queue declared in queues.ts without an entry here fails to compile.
 */
export const QUEUE_SPECS: { [Q in QueueName]: QueueSpec<Q> } = {
  // Pings are instant; a few slots keep one slow (test) ping from delaying the rest.
  'system-health': { concurrency: 4, processor: (ctx) => createHealthProcessor(ctx.workerId) },
  // Recognition takes a whole core in a child process: one per core, leaving one for the rest.
  transcription: {
    concurrency: Math.max(os.availableParallelism() - 1, 1),
    processor: (ctx) =>
      createTranscriptionProcessor({
        db: ctx.db,
        dataDir: ctx.config.dataDir,
        ffmpeg: ffmpegPath(ctx.config.FFMPEG_PATH),
        engine: selectTranscriptionEngine(ctx.config),
        producer: ctx.producer,
        publicUrl: ctx.config.publicUrl,
        log: ctx.log.child('transcription'),
      }),
  },
  // Waiting on SMTP round trips, not the CPU.
  email: { concurrency: 4, processor: (ctx) => createEmailProcessor(createMailer(ctx.config)) },
  // One at a time: each export keeps ffmpeg busy on a core, and the machine has few.
  'recording-export': {
    concurrency: 1,
    processor: (ctx) => createRecordingExportProcessor({ db: ctx.db, config: ctx.config, ffmpeg: () => ffmpegPath(ctx.config.FFMPEG_PATH), producer: ctx.producer }),
  },
  // Ghostscript takes a core per render; two keep a scheduled fax from waiting behind a long render.
  'fax-render': { concurrency: 2, processor: (ctx) => createFaxProcessor({ db: ctx.db, config: ctx.config, producer: ctx.producer }) },
  // Database round trips only; two let a small application pass a large one.
  'template-apply': { concurrency: 2, processor: (ctx) => createTemplateApplyProcessor({ db: ctx.db, producer: ctx.producer }) },
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
  /** BullMQ lockDuration; also the stalled-job check interval, so a dead worker's job is re-queued within about twice this. */
  lockDurationMs: number;
}

/**
 * What the workers service needs beyond the shared config. Throws a
 * ConfigError naming every bad variable, so the operator fixes them in one go.
 * The per-queue variables can't live in the shared schema: their names follow
 * the queue list.
 */
export function readWorkerSettings(
  config: Pick<Config, 'REDIS_URL' | 'QUEUE_PREFIX'> & Partial<Pick<Config, 'WORKER_LOCK_MS'>>,
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
  return { redisUrl, prefix, concurrency, lockDurationMs: config.WORKER_LOCK_MS ?? 30_000 };
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
export function startWorkers(settings: WorkerSettings, log: Logger, config: Config): WorkerRuntime {
  // Stored on each job BullMQ processes (job.processedBy) and in the connection name: says who ran what.
  const workerId = `${os.hostname()}-${process.pid}`;
  const connection = createRedisConnection(settings.redisUrl);
  const producer = createJobProducer(connection, settings.prefix);
  let database: Promise<Db> | undefined;
  const context: ProcessorContext = {
    workerId,
    config,
    log,
    producer,
    db: () => (database ??= openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir })),
  };
  const { reportError, clearError } = errorReporter(log);
  connection.on('error', reportError);
  connection.on('ready', () => {
    if (clearError()) log.info('redis connection restored');
  });

  const workers = queueNames().map((queue) =>
    startQueueWorker(queue, {
      connection,
      context,
      prefix: settings.prefix,
      concurrency: settings.concurrency[queue],
      lockDurationMs: settings.lockDurationMs,
      log,
      reportError,
    }),
  );
  let emailToFax: Promise<EmailToFaxServer> | undefined;
  if (config.FAX_SMTP_PORT > 0) {
    emailToFax = context.db().then(async (db) => {
      const server = await startEmailToFax(
        { db, queue: producer.queue('fax-render'), dataDir: config.dataDir, domain: config.FAX_EMAIL_DOMAIN, maxBytes: config.FAX_MAX_UPLOAD_MB * 1024 * 1024, maxPages: config.FAX_MAX_PAGES, log: log.child('email-to-fax') },
        config.FAX_SMTP_PORT,
        config.FAX_SMTP_HOST,
      );
      log.info('e-mail to fax listening', { host: config.FAX_SMTP_HOST, port: server.port, domain: config.FAX_EMAIL_DOMAIN });
      return server;
    });
  }
  // Ready once every worker is connected and the app can see this process's first heartbeat.
  let heartbeat: ReturnType<typeof startWorkersHeartbeat> | undefined;
  let closing = false;
  const ready = Promise.all([...workers.map((w) => w.waitUntilReady()), emailToFax]).then(async () => {
    if (closing) return;
    heartbeat = startWorkersHeartbeat(connection, settings.prefix, workerId, log);
    await heartbeat.first;
  });

  return {
    workerId,
    ready,
    async shutdown(timeoutMs) {
      // The process stops counting as live before it stops taking jobs.
      closing = true;
      await heartbeat?.stop();
      // No new mail is taken in while the jobs drain.
      await emailToFax?.then((server) => server.close()).catch(() => undefined);
      // close() stops fetching, then waits for active jobs (their locks keep being renewed meanwhile).
      const drained = Promise.all(workers.map((w) => w.close())).then(() => 'drained' as const);
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<'timed-out'>(
        (resolve) => (timer = setTimeout(resolve, timeoutMs, 'timed-out')),
      );
      const outcome = await Promise.race([drained, limit]);
      clearTimeout(timer);
      await producer.close().catch(() => undefined);
      if (database) await (await database).destroy().catch(() => undefined);
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
  context: ProcessorContext;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  log: Logger;
  reportError: (err: Error) => void;
}

function startQueueWorker<Q extends QueueName>(
  queue: Q,
  ctx: QueueWorkerContext,
): Worker<JobData<Q>, JobResult<Q>> {
  const log = ctx.log.child(queue);
  const process = QUEUE_SPECS[queue].processor(ctx.context);
  // A payload that breaks its queue's contract fails for good: no retry can mend it (a producer of another version).
  const checked: Processor<JobData<Q>, JobResult<Q>> = (job, token, signal) => {
    const payload = JOB_DATA_SCHEMAS[queue].safeParse(job.data);
    if (!payload.success) {
      const fields = payload.error.issues.map((i) => i.path.join('.') || '(payload)').join(', ');
      throw new UnrecoverableError(`the job's data breaks the ${queue} contract (${fields})`);
    }
    return process(job, token, signal);
  };
  const worker = new Worker<JobData<Q>, JobResult<Q>>(queue, checked, {
    // BullMQ duplicates this for its blocking fetch and leaves the original to us.
    connection: ctx.connection,
    prefix: ctx.prefix,
    concurrency: ctx.concurrency,
    name: ctx.context.workerId,
    // A worker killed outright (kill -9, power loss) stops renewing its locks; the next stalled
    // check of any worker, this one restarted included, puts its jobs back in the queue.
    lockDuration: ctx.lockDurationMs,
    stalledInterval: ctx.lockDurationMs,
    // Two crashes on the same job may be bad luck; a third means the job itself kills workers.
    maxStalledCount: 2,
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
