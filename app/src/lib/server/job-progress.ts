import { Job, Queue, QueueEvents } from 'bullmq';
import type { Server as SocketServer } from 'socket.io';
import { z } from 'zod';
import { createRedisConnection } from '@carillon/core/jobs';
import { USER_FACING_QUEUES, type JobOwner } from '@carillon/contracts/jobs';
import { reportRedisErrors, type Runtime } from './runtime.ts';

/** What a browser gets as `job:progress`: enough for a progress bar, nothing of the job's data. */
export interface JobProgressEvent {
  queue: string;
  jobId: string;
  percent: number;
  stage: string;
}

/** `job:finished`, once a job completed or failed for good. */
export interface JobFinishedEvent {
  queue: string;
  jobId: string;
  ok: boolean;
  reason?: string;
}

const progressSchema = z.object({
  percent: z.number().min(0).max(100),
  stage: z.string().max(40),
  owner: z.object({ accountId: z.string(), userId: z.string().nullable() }),
});

type Emitter = SocketServer<Record<string, never>, { 'job:progress': (e: JobProgressEvent) => void; 'job:finished': (e: JobFinishedEvent) => void }>;

/**
 * Relays the progress workers report (`reportProgress`) to the owner's socket
 * room. Every app node reads the whole event stream and tells only its own
 * sockets (`io.local`), so each browser hears an event once however many nodes
 * there are. A new queue shows progress bars by being in USER_FACING_QUEUES.
 */
export function relayJobProgress(io: SocketServer, rt: Runtime): () => Promise<void> {
  const emitter = io as unknown as Emitter;
  const connection = createRedisConnection(rt.config.REDIS_URL!, { connectionName: `${rt.config.QUEUE_PREFIX}:app-events` });
  reportRedisErrors(connection, rt.log, 'job-events');
  const listeners = USER_FACING_QUEUES.map((queue) => {
    const events = new QueueEvents(queue, { connection, prefix: rt.config.QUEUE_PREFIX });
    events.on('error', (err: Error) => rt.log.warn('job events error', { queue, error: err }));
    events.on('progress', ({ jobId, data }) => {
      const p = progressSchema.safeParse(data);
      if (!p.success || !p.data.owner.userId) return;
      emitter.local.to(`user:${p.data.owner.userId}`).emit('job:progress', { queue, jobId, percent: p.data.percent, stage: p.data.stage });
    });
    events.on('completed', ({ jobId }) => void announce(queue, jobId, true));
    events.on('failed', ({ jobId, failedReason }) => void announce(queue, jobId, false, failedReason));
    return events;
  });

  // Completion events carry no owner: read it from the job, still in Redis (removeOnComplete keeps it).
  const announce = async (queue: string, jobId: string, ok: boolean, reason?: string) => {
    try {
      const job = await Job.fromId(appQueue(queue), jobId);
      const owner = job?.data as Partial<JobOwner> | undefined;
      if (!job || !owner?.userId) return;
      // A failure with attempts left is a retry, not the end.
      if (!ok && (await job.getState()) !== 'failed') return;
      emitter.local.to(`user:${owner.userId}`).emit('job:finished', { queue, jobId, ok, ...(ok ? {} : { reason: reason ?? '' }) });
    } catch (err) {
      rt.log.debug('could not announce a finished job', { queue, jobId, error: err });
    }
  };
  const queues = new Map<string, Queue>();
  const appQueue = (name: string): Queue => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection, prefix: rt.config.QUEUE_PREFIX });
      q.on('error', () => undefined);
      queues.set(name, q);
    }
    return q;
  };

  return async () => {
    await Promise.allSettled([...listeners.map((e) => e.close()), ...[...queues.values()].map((q) => q.close())]);
    connection.disconnect();
  };
}
