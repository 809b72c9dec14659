import type { Queue } from 'bullmq';
import { QUEUE_JOB_OPTIONS, type JobOwner, type RecordingExportJobData, type RecordingExportJobResult } from '@carillon/contracts/jobs';

export type RecordingExportQueue = Queue<RecordingExportJobData, RecordingExportJobResult>;

/** How often expired exports (and voicemail trash past its 30 days) are looked for; their links refuse downloads on their own, this frees the disk. */
export const EXPIRED_EXPORTS_SWEEP_MS = 3600_000;
const SWEEP_SCHEDULER_ID = 'recording-export-sweep-expired';

/**
 * Queues the ZIP of a `recording_exports` row for its owner. The job id is the
 * export id, so asking twice for the same export queues it once. It also makes
 * sure the hourly sweep of expired exports is scheduled (an idempotent upsert):
 * the sweep exists as soon as there is anything to sweep.
 */
export async function enqueueRecordingExport(queue: RecordingExportQueue, exportId: string, owner: JobOwner): Promise<void> {
  await queue.add('export', { kind: 'export', exportId, accountId: owner.accountId, userId: owner.userId }, { ...QUEUE_JOB_OPTIONS['recording-export'], jobId: exportId });
  await scheduleExpirySweep(queue);
}

/**
 * Makes sure the hourly sweep runs (an idempotent upsert). It deletes expired
 * exports and purges the voicemail trash, so whatever fills either schedules
 * it: an export, or a voicemail moved to the trash.
 */
export async function scheduleExpirySweep(queue: RecordingExportQueue): Promise<void> {
  await queue.upsertJobScheduler(
    SWEEP_SCHEDULER_ID,
    { every: EXPIRED_EXPORTS_SWEEP_MS },
    { name: 'sweep-expired', data: { kind: 'sweep-expired' }, opts: { removeOnComplete: { count: 10 }, removeOnFail: { count: 100 } } },
  );
}
