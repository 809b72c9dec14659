import { Queue, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_JOB_OPTIONS, type JobData, type JobResult, type QueueName } from '@carillon/contracts/jobs';

/**
 * Adds jobs with each queue's retry and retention options (QUEUE_JOB_OPTIONS),
 * so the app and the workers enqueue the same way. One Queue object per queue,
 * made on first use, all on the caller's connection.
 */
export interface JobProducer {
  add<Q extends QueueName>(queue: Q, name: string, data: JobData<Q>, options?: JobsOptions): Promise<Job<JobData<Q>, JobResult<Q>>>;
  queue<Q extends QueueName>(queue: Q): Queue<JobData<Q>, JobResult<Q>>;
  close(): Promise<void>;
}

export function createJobProducer(connection: Redis, prefix: string): JobProducer {
  const queues = new Map<QueueName, Queue>();
  const queueOf = <Q extends QueueName>(name: Q): Queue<JobData<Q>, JobResult<Q>> => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection, prefix });
      // Connection errors surface on the add() that meets them; without a listener they would be thrown.
      q.on('error', () => undefined);
      queues.set(name, q);
    }
    return q as unknown as Queue<JobData<Q>, JobResult<Q>>;
  };
  return {
    queue: queueOf,
    async add(queue, name, data, options) {
      const q = queueOf(queue) as unknown as Queue;
      return (await q.add(name, data, { ...QUEUE_JOB_OPTIONS[queue], ...options })) as never;
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
      queues.clear();
    },
  };
}
