import { Queue, QueueEvents, type Job, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * The one place where queues are named. The app (producer) and the workers
 * service (consumer) both import from here, so a queue can't be misspelt on
 * one side only.
 */

/** Payload of a `system-health` job. */
export interface HealthJobData {
  requestedAt: string;
  /**
   * Makes the worker hold the job for this long (capped by the processor).
   * Only tests use it, to have a job in flight while the worker shuts down.
   */
  delayMs?: number;
}

/** What a worker answers to a `system-health` job. */
export interface HealthJobResult {
  workerId: string;
  pid: number;
  at: string;
}

/**
 * Who a job works for. Every job a person waits on carries it: the app pushes
 * the job's progress to that user's socket room, and the admin queue page
 * shows a failed job only to its own account.
 */
export interface JobOwner {
  accountId: string;
  userId: string | null;
}

/** Payload of a `transcription` job: the row in `transcriptions` says which file and language. */
export interface TranscriptionJobData extends JobOwner {
  transcriptionId: string;
}

export interface TranscriptionJobResult {
  transcriptionId: string;
  engine: string;
  words: number;
}

/** Payload of an `email` job: one message, sent through the configured SMTP server (or the outbox). */
export interface EmailJobData {
  /** The account the message is sent for; null for platform mail. */
  accountId: string | null;
  userId: string | null;
  /** What the message is, for the admin page and the logs (never the content, which may be personal). */
  purpose: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface EmailJobResult {
  to: string;
  sentAt: string;
}

/**
 * Payload of a `recording-export` job: `export` builds the ZIP of one
 * `recording_exports` row for its owner (the filters are read from the row),
 * and `sweep-expired`, a system job of no account, deletes the exports past
 * their expiry.
 */
export type RecordingExportJobData =
  | (JobOwner & {
      kind: 'export';
      exportId: string;
      /** Only tests use it: a pause after each recording, to catch an export in flight (capped by the processor). */
      delayMsPerRecording?: number;
    })
  | { kind: 'sweep-expired' };

export type RecordingExportJobResult =
  | { kind: 'export'; exportId: string; recordings: number; skipped: number; sizeBytes: number }
  | { kind: 'sweep-expired'; expired: number };

/**
 * Payload of a `fax-render` job (FaxOut). `render` turns the fax's
 * attachments and cover page into TIFF-F pages as soon as it is composed (the
 * app shows them as a preview); `send` delivers it to each recipient, at
 * once or as a delayed job at the scheduled time, rendering first if needed.
 */
export interface FaxJobData extends JobOwner {
  kind: 'render' | 'send';
  faxId: string;
  /** Only tests use it: a pause after each attachment, to catch a render in flight (capped by the processor). */
  delayMsPerAttachment?: number;
}

export interface FaxJobResult {
  faxId: string;
  pages: number;
  delivered: number;
  failed: number;
}

/** Payload of a `template-apply` job: the `template_applications` row says which template and users. */
export interface TemplateApplyJobData extends JobOwner {
  applicationId: string;
  /** Only tests use it: a pause after each user, to catch a job in flight (capped by the processor). */
  delayMsPerUser?: number;
}

export interface TemplateApplyJobResult {
  applicationId: string;
  applied: number;
  total: number;
}

/**
 * Payload and result type of every queue. A queue is added here (and to
 * `QueueName`) in the same change as its processor, so that no queue exists
 * without a consumer. Planned: sms-send.
 */
export interface QueueJobs {
  'system-health': { data: HealthJobData; result: HealthJobResult };
  transcription: { data: TranscriptionJobData; result: TranscriptionJobResult };
  email: { data: EmailJobData; result: EmailJobResult };
  'recording-export': { data: RecordingExportJobData; result: RecordingExportJobResult };
  'fax-render': { data: FaxJobData; result: FaxJobResult };
  'template-apply': { data: TemplateApplyJobData; result: TemplateApplyJobResult };
}

export type QueueName = keyof QueueJobs;
export const QueueName = {
  SystemHealth: 'system-health',
  Transcription: 'transcription',
  Email: 'email',
  RecordingExport: 'recording-export',
  FaxRender: 'fax-render',
  TemplateApply: 'template-apply',
} as const satisfies Record<string, QueueName>;

/**
 * Retries, backoff and retention per queue; producers pass these to `Queue.add`
 * (see `enqueue`). A job that fails for good (bad input) throws BullMQ's
 * UnrecoverableError and skips the remaining attempts.
 */
export const QUEUE_JOB_OPTIONS: { [Q in QueueName]: JobsOptions } = {
  'system-health': {
    attempts: 1,
    removeOnComplete: { age: 3600, count: 100 },
    removeOnFail: { age: 24 * 3600, count: 100 },
  },
  // Decoding and recognition are deterministic: a retry only helps after a crash or a full disk.
  transcription: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 5000 },
    removeOnComplete: { age: 7 * 24 * 3600, count: 1000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 1000 },
  },
  // SMTP servers refuse for a while (greylisting, restarts): 2 s, 4 s, … about 8 minutes in all.
  // A failed attempt (database hiccup, full disk) starts the ZIP over; an unreadable recording is no failure (the CSV lists it).
  'recording-export': {
    attempts: 3,
    backoff: { type: 'exponential', delay: 5000 },
    removeOnComplete: { age: 7 * 24 * 3600, count: 1000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 1000 },
  },
  // Rendering is deterministic and delivery idempotent: retries are for crashes, a full disk or a database hiccup.
  'fax-render': {
    attempts: 3,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: { age: 7 * 24 * 3600, count: 1000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 1000 },
  },
  // Each user is applied and stamped in one transaction: a retry only does the users still to do.
  'template-apply': {
    attempts: 5,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: { age: 7 * 24 * 3600, count: 1000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 1000 },
  },
  email: {
    attempts: 8,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: { age: 24 * 3600, count: 1000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 1000 },
  },
};

/** Queues whose jobs someone waits on: the app pushes their progress over socket.io. */
export const USER_FACING_QUEUES: readonly QueueName[] = ['transcription', 'email', 'recording-export', 'fax-render', 'template-apply'];

/**
 * What a worker reports as a job moves on (`job.updateProgress`): the owner
 * rides along so the app can route the event to the right room without
 * reading the job back.
 */
export interface JobProgress {
  percent: number;
  /** A short machine word for the step ('decoding', 'recognising', …); the UI translates it. */
  stage: string;
  owner: JobOwner;
}

export type JobData<Q extends QueueName> = QueueJobs[Q]['data'];
export type JobResult<Q extends QueueName> = QueueJobs[Q]['result'];

/**
 * BullMQ `prefix` for every Queue, Worker and QueueEvents, so that Carillon's
 * keys are recognisable in a shared Redis. Tests pass their own prefix to run
 * side by side without seeing each other's jobs.
 */
export const QUEUE_PREFIX = 'carillon';

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
    // QueueEvents duplicates this connection and only lets go of the copy once
    // it has connected or given up; giving up at the deadline keeps its close()
    // from waiting forever on a Redis that is down.
    retryStrategy: (times) => (performance.now() < deadline ? Math.min(times * 100, 500) : null),
  });
  connection.on('error', (err: Error) => (redisError = err));
  const queue = new Queue<HealthJobData, HealthJobResult>(QueueName.SystemHealth, { connection, prefix });
  const events = new QueueEvents(QueueName.SystemHealth, { connection, prefix });
  // Connection errors are reported through `redisError`; without listeners they would be thrown.
  queue.on('error', (err: Error) => (redisError = err));
  events.on('error', (err: Error) => (redisError = err));

  let job: Job<HealthJobData, HealthJobResult> | undefined;
  let workerCount: number | undefined;
  const probe = async (): Promise<WorkersHealth> => {
    await events.waitUntilReady();
    // Only used to explain a timeout; CLIENT LIST is refused by some hosted Redis.
    queue.getWorkersCount().then(
      (n) => (workerCount = n),
      () => undefined,
    );
    const started = performance.now();
    job = await queue.add('ping', { requestedAt: new Date().toISOString() }, HEALTH_JOB_OPTIONS);
    const result = await job.waitUntilFinished(events);
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
  const running = probe();
  // Once the deadline wins, closing the queue rejects the abandoned probe; that is expected.
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
    await within(events.close(), CLEANUP_STEP_MS).catch(() => undefined);
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
