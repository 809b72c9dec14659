/** Producing and administering jobs on Redis (BullMQ); the jobs themselves are contracts (@carillon/contracts/jobs). */
export * from './workers-health.ts';
export * from './producer.ts';
export * from './queue-admin.ts';
export * from './fax-queue.ts';
export * from './recording-export-queue.ts';
export * from './template-apply-queue.ts';
export * from './sms-send-queue.ts';
