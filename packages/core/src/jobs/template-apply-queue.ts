import type { Queue } from 'bullmq';
import { QUEUE_JOB_OPTIONS, type JobOwner, type TemplateApplyJobData, type TemplateApplyJobResult } from '@carillon/contracts/jobs';

export type TemplateApplyQueue = Queue<TemplateApplyJobData, TemplateApplyJobResult>;

/** Queues a stored `template_applications` row; its id is the job id, so queuing it twice runs it once. */
export async function enqueueTemplateApply(queue: TemplateApplyQueue, applicationId: string, owner: JobOwner): Promise<void> {
  await queue.add('apply', { applicationId, accountId: owner.accountId, userId: owner.userId }, { ...QUEUE_JOB_OPTIONS['template-apply'], jobId: applicationId });
}
