import { setTimeout as sleep } from 'node:timers/promises';
import type { Processor } from 'bullmq';
import type { HealthJobData, HealthJobResult } from '@carillon/contracts/jobs';

/**
 * Upper bound on `delayMs`: long enough for a test to catch the job in flight,
 * short enough that a stray or hostile value can't tie up a worker slot.
 */
export const MAX_HEALTH_DELAY_MS = 5000;

/** Processor for `system-health`: proves a worker is alive and says which one answered. */
export function createHealthProcessor(workerId: string): Processor<HealthJobData, HealthJobResult> {
  return async (job) => {
    const requested = Number(job.data.delayMs ?? 0);
    const delayMs = Number.isFinite(requested) ? Math.min(Math.max(requested, 0), MAX_HEALTH_DELAY_MS) : 0;
    if (delayMs > 0) await sleep(delayMs);
    return { workerId, pid: process.pid, at: new Date().toISOString() };
  };
}
