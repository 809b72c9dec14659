export {
  QueueName,
  QUEUE_PREFIX,
  createRedisConnection,
  requestWorkersHealth,
  type QueueJobs,
  type JobData,
  type JobResult,
  type HealthJobData,
  type HealthJobResult,
  type WorkersHealth,
  type RequestWorkersHealthOptions,
} from './queues.ts';
