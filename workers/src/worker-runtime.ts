import os from 'node:os';
import { UnrecoverableError, Worker, type Processor } from 'bullmq';
import { Redis } from 'ioredis';
import { ConfigError, type Config, type Logger } from '@carillon/config';
import { createMailer, loadSecretKey, secretBox, type SecretBox } from '@carillon/core';
import { openDatabase, type Db } from '@carillon/db';
import { createHealthProcessor } from './health-worker.ts';
import { createEmailProcessor } from './email-worker.ts';
import { createJobProducer, enqueueCampaignSmsSends, enqueueSmsSend, type JobProducer } from '@carillon/core/jobs';
import { ffmpegPath } from './transcription/audio.ts';
import { createTranscriptionProcessor } from './transcription/processor.ts';
import { selectTranscriptionEngine } from './transcription/select-engine.ts';
import { createRecordingExportProcessor } from './recording-export/recording-export-processor.ts';
import { createFaxProcessor } from './fax/fax-processor.ts';
import { createTemplateApplyProcessor } from './templates/template-apply-processor.ts';
import { createSmsSendProcessor } from './sms/sms-send-processor.ts';
import { SmsGateway } from './sms/sms-gateway.ts';
import { RedisSegmentRateLimiter } from './sms/segment-rate-limiter.ts';
import { queueSmsReceivedEmails } from './sms/sms-notify.ts';
import { SmsCampaignScheduler } from './sms/sms-campaign-scheduler.ts';
import { enabledSmsCarrierIds, redisSmsDailyCampaignCounter } from '@carillon/core/sms';
import { SMS_EVENTS_CHANNEL, type SmsEvent } from '@carillon/contracts/sms-events';
import { VOICEMAIL_EVENTS_CHANNEL, type VoicemailEvent } from '@carillon/contracts/voicemail-events';
import { startEmailToFax, type EmailToFaxServer } from './fax/email-to-fax.ts';
import { JOB_DATA_SCHEMAS, type JobData, type JobResult, type QueueName } from '@carillon/contracts/jobs';
import { createRedisConnection } from '@carillon/core/jobs';
import { startWorkersHeartbeat } from './heartbeat.ts';
import { createVoicemailNotifyProcessor, startVoicemailNotifyListener } from './voicemail/voicemail-notify.ts';
import { createMissedCallNotifyProcessor, startMissedCallNotifyListener } from './calls/missed-call-notify.ts';

/** What a processor may use; the database is opened on first use, so health-only runs need none. */
export interface ProcessorContext {
  workerId: string;
  config: Config;
  log: Logger;
  db: () => Promise<Db>;
  producer: JobProducer;
  /** Runs `close` at shutdown, once the queues' workers have stopped (a processor's long-lived connections). */
  onShutdown: (close: () => Promise<void>) => void;
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
        publishVoicemail: channelPublisher<VoicemailEvent>(ctx, VOICEMAIL_EVENTS_CHANNEL, 'voicemail-events'),
      }),
  },
  // Waiting on SMTP round trips, not the CPU.
  email: { concurrency: 4, processor: (ctx) => createEmailProcessor(createMailer(ctx.config), ctx.config.dataDir) },
  // Database round trips and, once per message, a short ffmpeg run.
  'voicemail-notify': {
    concurrency: 2,
    processor: (ctx) => {
      startVoicemailNotifications(ctx);
      return createVoicemailNotifyProcessor({
        db: ctx.db,
        dataDir: ctx.config.dataDir,
        ffmpeg: ffmpegPath(ctx.config.FFMPEG_PATH),
        producer: ctx.producer,
        publicUrl: ctx.config.publicUrl,
        publish: channelPublisher<VoicemailEvent>(ctx, VOICEMAIL_EVENTS_CHANNEL, 'voicemail-events'),
      });
    },
  },
  // A few database round trips per ended call.
  'missed-call-notify': {
    concurrency: 2,
    processor: (ctx) => {
      // Released: the setting shows in every user's Notifications (off by default), so the e-mails leave wherever a database and Redis are configured.
      if (ctx.config.DATABASE_URL) startChannelListener(ctx, 'missed-call-notify', 'missed-call notifications', (subscriber, log) => startMissedCallNotifyListener({ subscriber, producer: ctx.producer, log }));
      return createMissedCallNotifyProcessor({ db: ctx.db, producer: ctx.producer, publicUrl: ctx.config.publicUrl });
    },
  },
  // One at a time: each export keeps ffmpeg busy on a core, and the machine has few.
  'recording-export': {
    concurrency: 1,
    processor: (ctx) =>
      createRecordingExportProcessor({
        db: ctx.db,
        config: ctx.config,
        ffmpeg: () => ffmpegPath(ctx.config.FFMPEG_PATH),
        producer: ctx.producer,
        publishVoicemail: channelPublisher<VoicemailEvent>(ctx, VOICEMAIL_EVENTS_CHANNEL, 'voicemail-events'),
      }),
  },
  // Ghostscript takes a core per render; two keep a scheduled fax from waiting behind a long render.
  'fax-render': { concurrency: 2, processor: (ctx) => createFaxProcessor({ db: ctx.db, config: ctx.config, producer: ctx.producer }) },
  // Database round trips only; two let a small application pass a large one.
  'template-apply': { concurrency: 2, processor: (ctx) => createTemplateApplyProcessor({ db: ctx.db, producer: ctx.producer }) },
  // Each job waits on an SMSC answer, not the CPU: enough to keep several carriers' windows (10 each) full.
  'sms-send': {
    concurrency: 50,
    processor: (ctx) => {
      const publish = channelPublisher<SmsEvent>(ctx, SMS_EVENTS_CHANNEL, 'sms-events');
      const limits = smsLimitsRedis(ctx);
      startSmsCampaignScheduler(ctx, limits);
      return createSmsSendProcessor({ db: ctx.db, gateway: startSmsGateway(ctx, publish, limits), publish });
    },
  },
};

/**
 * The process's SMPP clients. With a database configured, every enabled
 * carrier is bound at start, so texts are received even before one is sent.
 */
function startSmsGateway(ctx: ProcessorContext, publish: (event: SmsEvent) => void, limits: Redis): SmsGateway {
  let box: SecretBox | undefined;
  const gateway = new SmsGateway({
    db: ctx.db,
    // Read on first use: a process that never sends a text never touches the key file.
    box: () => (box ??= secretBox(loadSecretKey(ctx.config))),
    log: ctx.log.child('sms'),
    rateLimiter: new RedisSegmentRateLimiter(limits),
    enqueue: (accountId, messageId) => enqueueSmsSend(ctx.producer.queue('sms-send'), { accountId, messageId }),
    publish,
    // Like voicemail's: e-mails about texts only while the area is enabled, so nobody hears of an inbox they cannot see.
    ...(ctx.config.ENABLE_UNRELEASED.includes('sms')
      ? { notifyReceived: async (accountId: string, messageId: string) => queueSmsReceivedEmails(await ctx.db(), { producer: ctx.producer, publicUrl: ctx.config.publicUrl }, accountId, messageId) }
      : {}),
  });
  ctx.onShutdown(() => gateway.close());
  if (ctx.config.DATABASE_URL) {
    void ctx
      .db()
      .then(enabledSmsCarrierIds)
      .then((ids) => Promise.all(ids.map((id) => gateway.client(id))))
      .catch((err: unknown) => ctx.log.error('SMS carriers not bound at start', { error: err }));
  }
  return gateway;
}

/**
 * The SMS limits every workers process shares, in Redis: the segment rate
 * limits of each carrier and sender, and the per-account daily cap of
 * campaign texts. A connection of its own: the rate limiter is asked before
 * each segment, and must not wait behind BullMQ's blocking commands.
 */
function smsLimitsRedis(ctx: ProcessorContext): Redis {
  const log = ctx.log.child('sms-rate');
  // Few retries per command: while Redis is down the client pauses sending and asks again. (REDIS_URL is
  // always set here: readWorkerSettings refuses to start the service without it.)
  const redis = new Redis(ctx.config.REDIS_URL ?? '', { connectionName: 'carillon:workers-sms-rate', maxRetriesPerRequest: 2 }).on('error', (err: Error) => log.warn('Redis error', { error: err.message }));
  ctx.onShutdown(async () => void (await redis.quit().catch(() => redis.disconnect())));
  return redis;
}

/** The campaign scheduler runs beside the senders, where a database is configured. */
function startSmsCampaignScheduler(ctx: ProcessorContext, limits: Redis): void {
  if (!ctx.config.DATABASE_URL) return;
  const scheduler = new SmsCampaignScheduler({
    db: ctx.db,
    dailyCounter: redisSmsDailyCampaignCounter(limits),
    enqueue: (accountId, messageIds) => enqueueCampaignSmsSends(ctx.producer.queue('sms-send'), accountId, messageIds),
    log: ctx.log.child('sms-campaigns'),
  });
  scheduler.start();
  ctx.onShutdown(() => scheduler.close());
}

/**
 * Voicemail notification e-mails listen to the voicemail events only while the
 * voicemail area is unreleased-but-enabled (ENABLE_UNRELEASED=voicemail): the
 * settings default to "notify by e-mail" and users cannot change them yet
 * (UNRELEASED_NOTIFICATIONS), so nobody is e-mailed about an inbox they cannot see.
 */
function startVoicemailNotifications(ctx: ProcessorContext): void {
  if (!ctx.config.ENABLE_UNRELEASED.includes('voicemail') || !ctx.config.DATABASE_URL) return;
  startChannelListener(ctx, 'voicemail-notify', 'voicemail notifications', (subscriber, log) => startVoicemailNotifyListener({ subscriber, db: ctx.db, producer: ctx.producer, log }));
}

/**
 * A listener of a Redis channel on a connection of its own (`name` names the
 * connection and the log), logged "<what> listening" once subscribed, closed at shutdown.
 */
function startChannelListener(ctx: ProcessorContext, name: string, what: string, start: (subscriber: Redis, log: Logger) => Promise<{ close: () => Promise<void> }>): void {
  if (!ctx.config.REDIS_URL) return;
  const log = ctx.log.child(name);
  const subscriber = new Redis(ctx.config.REDIS_URL, { connectionName: `carillon:workers-${name}` }).on('error', (err: Error) => log.warn('Redis error', { error: err.message }));
  const listening = start(subscriber, log).then(
    (listener) => {
      log.info(`${what} listening`);
      return listener;
    },
    (err: unknown) => {
      log.error(`${what} not listening`, { error: err });
      subscriber.disconnect();
      return undefined;
    },
  );
  ctx.onShutdown(async () => {
    await (await listening)?.close();
  });
}

/**
 * Live events to the app (SMS_EVENTS_CHANNEL, VOICEMAIL_EVENTS_CHANNEL), on a
 * Redis connection of their own opened on first use. A lost event costs a
 * live update only (the page reads the database on its next load), so a
 * failure is logged, never thrown.
 */
function channelPublisher<E>(ctx: ProcessorContext, channel: string, name: string): (event: E) => void {
  const log = ctx.log.child(name);
  let redis: Redis | undefined;
  ctx.onShutdown(async () => {
    await redis?.quit().catch(() => undefined);
  });
  return (event) => {
    if (!ctx.config.REDIS_URL) return;
    // A few retries per command, not BullMQ's unlimited ones: while Redis is down, events are dropped, not piled up.
    redis ??= new Redis(ctx.config.REDIS_URL, { connectionName: `carillon:workers-${name}`, maxRetriesPerRequest: 2 }).on('error', (err: Error) => log.warn('Redis error', { error: err.message }));
    void redis.publish(channel, JSON.stringify(event)).catch((err: unknown) => log.warn('event not published', { channel, error: err }));
  };
}

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
  const closers: (() => Promise<void>)[] = [];
  const context: ProcessorContext = {
    onShutdown: (close) => closers.push(close),
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
      await Promise.all(closers.map((close) => close().catch((err: unknown) => log.warn('closing failed', { error: err }))));
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
