import type { Redis } from 'ioredis';
import { createJobProducer, createRedisConnection, type JobProducer } from '@carillon/core/jobs';
import { reportRedisErrors, type Runtime } from './runtime.ts';

const KEY = Symbol.for('carillon.app.jobs');
type Holder = { [KEY]?: { connection: Redis; producer: JobProducer } };

/**
 * The app's side of the job queues: one BullMQ-ready connection and producer
 * per process (kept on globalThis like the runtime, for the same reason).
 * BullMQ wants `maxRetriesPerRequest: null`, which the runtime's own Redis
 * client does not have.
 */
export function appJobs(rt: Runtime): { connection: Redis; producer: JobProducer; prefix: string } {
  const g = globalThis as Holder;
  if (!g[KEY]) {
    const connection = createRedisConnection(rt.config.REDIS_URL!, { connectionName: `${rt.config.QUEUE_PREFIX}:app` });
    reportRedisErrors(connection, rt.log, 'jobs');
    g[KEY] = { connection, producer: createJobProducer(connection, rt.config.QUEUE_PREFIX) };
  }
  return { ...g[KEY], prefix: rt.config.QUEUE_PREFIX };
}
