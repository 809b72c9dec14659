import { recordAudit, type AuditActor, type AuthenticatedSession } from '@carillon/core';
import { failedJobsOf, queueStatuses, retryFailedJob, type FailedJob, type QueueStatus, type RetryOutcome } from '@carillon/core/jobs';
import { appJobs } from './jobs.ts';
import type { Runtime } from './runtime.ts';

export interface QueueHealth {
  queues: QueueStatus[];
  /** The caller account's failed jobs: another company's are never listed. */
  failed: FailedJob[];
  at: string;
}

export async function queueHealth(rt: Runtime, auth: AuthenticatedSession): Promise<QueueHealth> {
  const { connection, prefix } = appJobs(rt);
  const [queues, failed] = await Promise.all([queueStatuses(connection, prefix), failedJobsOf(connection, prefix, auth.account.id)]);
  return { queues, failed, at: new Date().toISOString() };
}

/** Retries a failed job of the caller's account, and says so in the audit trail. */
export async function retryJob(rt: Runtime, auth: AuthenticatedSession, actor: AuditActor, queue: string, jobId: string): Promise<RetryOutcome> {
  const { connection, prefix } = appJobs(rt);
  const outcome = await retryFailedJob(connection, prefix, auth.account.id, queue, jobId);
  if (outcome === 'retried') {
    await recordAudit(rt.db, actor, { accountId: auth.account.id, action: 'job.retried', targetType: 'job', targetId: `${queue}/${jobId}` });
  }
  return outcome;
}
