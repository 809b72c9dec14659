import { z } from 'zod';

/**
 * Jobs between the app (producer) and the workers service (consumer): queue
 * names, payloads and results, retry options, and the progress a job reports.
 * Both sides import them from here, so a queue can't be misspelt on one side
 * only, and neither service imports the other.
 */

/**
 * The subset of BullMQ's `JobsOptions` a queue's defaults use; structurally
 * a `JobsOptions`, so producers pass it to `Queue.add` as it is.
 */
export interface JobOptions {
  attempts: number;
  backoff?: { type: 'exponential' | 'fixed'; delay: number };
  removeOnComplete: { age: number; count: number };
  removeOnFail: { age: number; count: number };
}

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
  /** Files under DATA_DIR (paths relative to it) attached as they are when the message is sent: never the bytes, which would fill Redis. */
  attachments?: EmailAttachment[];
  /** An invitation (iTIP REQUEST, RFC 5546) sent as the message's text/calendar part: small, so its text travels in the job. */
  calendar?: { content: string };
}

export interface EmailAttachment {
  /** The name the recipient sees. */
  filename: string;
  /** Relative to DATA_DIR; a path leaving it fails the job for good. */
  path: string;
  contentType: string;
}

/**
 * Payload of a `voicemail-notify` job: the notification e-mail(s) of one
 * voicemail message (issue 13), to the readers of its mailbox who asked for
 * them. One job per message (job id `voicemail-notify-<messageId>`).
 */
export interface VoicemailNotifyJobData {
  accountId: string;
  messageId: string;
}

/**
 * Payload of a `missed-call-notify` job: the missed-call e-mails of one ended
 * call (issue 13), to the users who missed it and asked for them. One job per
 * call (job id `missed-call-notify-<callId>`).
 */
export interface MissedCallNotifyJobData {
  accountId: string;
  callId: string;
}

export interface MissedCallNotifyJobResult {
  callId: string;
  /** Users who missed the call (whatever their settings). */
  missedBy: number;
  /** E-mails enqueued (one per user who missed it and wants them). */
  emailed: number;
}

export interface VoicemailNotifyJobResult {
  messageId: string;
  /** E-mails enqueued (one per reader who wants them). */
  emailed: number;
  markedRead: boolean;
}

export interface EmailJobResult {
  to: string;
  sentAt: string;
}

/**
 * Payload of a `recording-export` job: `export` builds the ZIP of one
 * `recording_exports` row for its owner (the filters are read from the row),
 * and `sweep-expired`, a system job of no account, deletes the exports past
 * their expiry and the voicemail messages in the trash past its 30 days.
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
  | {
      kind: 'sweep-expired';
      expired: number;
      /** Voicemail messages purged from the trash (issue 13). */
      voicemailPurged: number;
      /** Voicemail messages older than their account's retention, removed (issue 13). */
      voicemailRetainedOut: number;
    };

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
 * Payload of an `sms-send` job: one row of `sms_messages` (outbound, status
 * 'queued') to submit to its carrier. The job id is the message id, so a
 * message is queued once; the row's status says whether an earlier attempt
 * got as far as the SMSC, and then it is never submitted again.
 */
export interface SmsSendJobData {
  accountId: string;
  messageId: string;
}

export interface SmsSendJobResult {
  messageId: string;
  /** The message's status once the job ended (sent, failed, unknown, …). */
  status: string;
}

/**
 * Payload and result type of every queue. A queue is added here (and to
 * `QueueName`) in the same change as its processor, so that no queue exists
 * without a consumer.
 */
export interface QueueJobs {
  'system-health': { data: HealthJobData; result: HealthJobResult };
  transcription: { data: TranscriptionJobData; result: TranscriptionJobResult };
  email: { data: EmailJobData; result: EmailJobResult };
  'recording-export': { data: RecordingExportJobData; result: RecordingExportJobResult };
  'fax-render': { data: FaxJobData; result: FaxJobResult };
  'template-apply': { data: TemplateApplyJobData; result: TemplateApplyJobResult };
  'sms-send': { data: SmsSendJobData; result: SmsSendJobResult };
  'voicemail-notify': { data: VoicemailNotifyJobData; result: VoicemailNotifyJobResult };
  'missed-call-notify': { data: MissedCallNotifyJobData; result: MissedCallNotifyJobResult };
}

export type QueueName = keyof QueueJobs;
export const QueueName = {
  SystemHealth: 'system-health',
  Transcription: 'transcription',
  Email: 'email',
  RecordingExport: 'recording-export',
  FaxRender: 'fax-render',
  TemplateApply: 'template-apply',
  SmsSend: 'sms-send',
  VoicemailNotify: 'voicemail-notify',
  MissedCallNotify: 'missed-call-notify',
} as const satisfies Record<string, QueueName>;

/**
 * Retries, backoff and retention per queue; producers pass these to `Queue.add`
 * (see `enqueue`). A job that fails for good (bad input) throws BullMQ's
 * UnrecoverableError and skips the remaining attempts.
 */
export const QUEUE_JOB_OPTIONS: { [Q in QueueName]: JobOptions } = {
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
  // A retry never resubmits what reached the SMSC (the row's status says so); retries cover a database or Redis hiccup.
  'sms-send': {
    attempts: 5,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
  },
  // Each step is idempotent (the MP3 is made once, the e-mails have the message's job ids): retries are for crashes and hiccups.
  'voicemail-notify': {
    attempts: 5,
    backoff: { type: 'exponential', delay: 2000 },
    // Kept a week: a late or repeated event for the same message finds the job and adds nothing.
    removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 1000 },
  },
  // Database round trips only, and the e-mails have the call's job ids: retries are for crashes and hiccups.
  'missed-call-notify': {
    attempts: 5,
    backoff: { type: 'exponential', delay: 2000 },
    // Kept a week: a repeated event for the same call finds the job and adds nothing.
    removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
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
 * Payload schemas: a consumer parses what it takes off a queue with them, so a
 * job written by another version of the producer fails loudly, not halfway.
 */
const jobOwner = { accountId: z.string().min(1), userId: z.string().min(1).nullable() };
const testDelay = z.number().int().min(0).max(60_000).optional();
export const JOB_DATA_SCHEMAS = {
  'system-health': z.object({ requestedAt: z.string(), delayMs: testDelay }),
  transcription: z.object({ ...jobOwner, transcriptionId: z.string().min(1) }),
  email: z.object({
    accountId: z.string().min(1).nullable(),
    userId: z.string().min(1).nullable(),
    purpose: z.string().min(1),
    to: z.string().min(3),
    subject: z.string(),
    text: z.string(),
    html: z.string().optional(),
    attachments: z.array(z.object({ filename: z.string().min(1).max(200), path: z.string().min(1), contentType: z.string().min(1) })).max(10).optional(),
    calendar: z.object({ content: z.string().min(1).max(32_768) }).optional(),
  }),
  'recording-export': z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('export'), ...jobOwner, exportId: z.string().min(1), delayMsPerRecording: testDelay }),
    z.object({ kind: z.literal('sweep-expired') }),
  ]),
  'fax-render': z.object({ kind: z.enum(['render', 'send']), ...jobOwner, faxId: z.string().min(1), delayMsPerAttachment: testDelay }),
  'template-apply': z.object({ ...jobOwner, applicationId: z.string().min(1), delayMsPerUser: testDelay }),
  'sms-send': z.object({ accountId: z.string().uuid(), messageId: z.string().uuid() }),
  'voicemail-notify': z.object({ accountId: z.string().uuid(), messageId: z.string().uuid() }),
  'missed-call-notify': z.object({ accountId: z.string().uuid(), callId: z.string().uuid() }),
} satisfies { [Q in QueueName]: z.ZodType<JobData<Q>> };

/** The payload of a job of `queue`, checked; throws a ZodError naming the bad field. */
export function parseJobData<Q extends QueueName>(queue: Q, data: unknown): JobData<Q> {
  return JOB_DATA_SCHEMAS[queue].parse(data) as JobData<Q>;
}
