import type { Job } from 'bullmq';
import type { JobOwner, JobProgress } from '@carillon/contracts/jobs';

/**
 * What any processor calls as its job moves on. The app's QueueEvents listener
 * (app/src/lib/server/job-progress.ts) turns it into a `job:progress` socket
 * event for the owner, shown as a progress bar; nothing else is needed for a
 * new queue's jobs to show progress but to be listed in USER_FACING_QUEUES.
 */
export async function reportProgress(job: Job<JobOwner>, percent: number, stage: string): Promise<void> {
  const progress: JobProgress = {
    percent: Math.round(Math.min(Math.max(percent, 0), 100)),
    stage,
    owner: { accountId: job.data.accountId, userId: job.data.userId },
  };
  await job.updateProgress(progress as unknown as object);
}
