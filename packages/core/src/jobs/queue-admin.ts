import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QueueName, USER_FACING_QUEUES, type JobOwner } from '@carillon/contracts/jobs';

/**
 * What the admin queue page shows and does. Counts and worker liveness are
 * the platform's (like the service health page); failed jobs are listed and
 * retried only for the caller's own account, read from the job's owner.
 */
export const JOB_STATES = ['waiting', 'active', 'delayed', 'completed', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface QueueStatus {
  name: QueueName;
  counts: Record<JobState, number>;
  /** Worker connections consuming this queue; null when Redis refuses CLIENT LIST. */
  workers: number | null;
}

export interface FailedJob {
  queue: QueueName;
  id: string;
  name: string;
  /** The queue's purpose word for e-mails ('transcription-done'); never the content. */
  purpose: string | null;
  reason: string;
  attemptsMade: number;
  maxAttempts: number;
  failedAt: string | null;
}

const allQueues = (): QueueName[] => Object.values(QueueName);

function withQueue<T>(connection: Redis, prefix: string, name: QueueName, f: (q: Queue) => Promise<T>): Promise<T> {
  const q = new Queue(name, { connection, prefix });
  q.on('error', () => undefined);
  return f(q).finally(() => q.close());
}

export async function queueStatuses(connection: Redis, prefix: string): Promise<QueueStatus[]> {
  return Promise.all(
    allQueues().map((name) =>
      withQueue(connection, prefix, name, async (q) => {
        const counts = (await q.getJobCounts(...JOB_STATES)) as Record<JobState, number>;
        const workers = await q.getWorkersCount().catch(() => null);
        return { name, counts, workers };
      }),
    ),
  );
}

const ownerOf = (job: Job): JobOwner | null => {
  const data = job.data as Partial<JobOwner> | undefined;
  return data && typeof data.accountId === 'string' ? { accountId: data.accountId, userId: data.userId ?? null } : null;
};

/** The account's failed jobs, newest first, looking at the latest `scan` failures of each queue. */
export async function failedJobsOf(connection: Redis, prefix: string, accountId: string, scan = 500): Promise<FailedJob[]> {
  const lists = await Promise.all(
    USER_FACING_QUEUES.map((name) =>
      withQueue(connection, prefix, name, async (q) => {
        const jobs = (await q.getFailed(0, scan - 1)) as Job[];
        return jobs
          .filter((j) => j && ownerOf(j)?.accountId === accountId)
          .map(
            (j): FailedJob => ({
              queue: name,
              id: String(j.id),
              name: j.name,
              purpose: typeof (j.data as { purpose?: unknown }).purpose === 'string' ? (j.data as { purpose: string }).purpose : null,
              reason: j.failedReason ?? '',
              attemptsMade: j.attemptsMade,
              maxAttempts: j.opts.attempts ?? 1,
              failedAt: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
            }),
          );
      }),
    ),
  );
  return lists.flat().sort((a, b) => (b.failedAt ?? '').localeCompare(a.failedAt ?? ''));
}

export type RetryOutcome = 'retried' | 'not_found' | 'not_failed';

/** Puts a failed job of the account back in its queue with a fresh set of attempts. */
export async function retryFailedJob(connection: Redis, prefix: string, accountId: string, queue: string, jobId: string): Promise<RetryOutcome> {
  if (!(USER_FACING_QUEUES as readonly string[]).includes(queue)) return 'not_found';
  return withQueue(connection, prefix, queue as QueueName, async (q) => {
    const job = await Job.fromId(q, jobId);
    // Another account's job is "not found", not "forbidden": its existence is not ours to tell.
    if (!job || ownerOf(job)?.accountId !== accountId) return 'not_found';
    if ((await job.getState()) !== 'failed') return 'not_failed';
    await job.retry('failed', { resetAttemptsMade: true });
    return 'retried';
  });
}
