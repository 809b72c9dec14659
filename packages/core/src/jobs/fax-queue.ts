import type { Queue } from 'bullmq';
import { QUEUE_JOB_OPTIONS, type FaxJobData, type FaxJobResult, type JobOwner } from '@carillon/contracts/jobs';

export type FaxQueue = Queue<FaxJobData, FaxJobResult>;

export interface EnqueueFaxOptions {
  /** Null: send as soon as rendered. */
  sendAt: Date | null;
  /** Only tests use it; see FaxJobData. */
  delayMsPerAttachment?: number;
}

/**
 * Queues a composed fax: a render job at once (the preview) and a send job
 * for the scheduled time, a BullMQ delayed job. Job ids derive from the fax
 * id, so queuing the same fax twice queues it once.
 */
export async function enqueueFax(queue: FaxQueue, faxId: string, owner: JobOwner, options: EnqueueFaxOptions): Promise<void> {
  const base = { faxId, accountId: owner.accountId, userId: owner.userId, ...(options.delayMsPerAttachment ? { delayMsPerAttachment: options.delayMsPerAttachment } : {}) };
  const opts = QUEUE_JOB_OPTIONS['fax-render'];
  const delay = options.sendAt ? Math.max(0, options.sendAt.getTime() - Date.now()) : 0;
  if (delay > 0) await queue.add('render', { ...base, kind: 'render' }, { ...opts, jobId: `${faxId}-render` });
  // Sent now, the send job renders first itself: one job, no wait for a second one.
  await queue.add('send', { ...base, kind: 'send' }, { ...opts, jobId: `${faxId}-send`, delay });
}
