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
  QUEUE_JOB_OPTIONS,
  USER_FACING_QUEUES,
  type JobOwner,
  type JobProgress,
  type TranscriptionJobData,
  type TranscriptionJobResult,
  type EmailJobData,
  type EmailJobResult,
} from './queues.ts';
export { createJobProducer, type JobProducer } from './producer.ts';
export { readWorkersHeartbeats, WORKERS_HEARTBEAT_TTL_MS, type WorkersHeartbeat } from './heartbeat.ts';
export { reportProgress } from './progress.ts';
export {
  queueStatuses,
  failedJobsOf,
  retryFailedJob,
  JOB_STATES,
  type QueueStatus,
  type FailedJob,
  type JobState,
  type RetryOutcome,
} from './queue-admin.ts';
export { type RecordingExportJobData, type RecordingExportJobResult } from './queues.ts';
export {
  recordingExportRequest,
  effectiveExportFilters,
  type RecordingExportRequest,
  type RecordingExportFilters,
} from './recording-export/export-filters.ts';
export { enqueueRecordingExport, type RecordingExportQueue } from './recording-export/recording-export-queue.ts';
export { expireExport } from './recording-export/expired-exports.ts';
export { type FaxJobData, type FaxJobResult } from './queues.ts';
export { enqueueFax, type FaxQueue, type EnqueueFaxOptions } from './fax/fax-queue.ts';
export {
  createFax,
  faxComposeRequest,
  normaliseFaxNumber,
  FaxComposeError,
  MAX_FAX_RECIPIENTS,
  MAX_FAX_ATTACHMENTS,
  type FaxComposeRequest,
  type FaxUpload,
} from './fax/fax-compose.ts';
export { faxDirectory, faxPdfPath, faxInboxPdfPath } from './fax/fax-paths.ts';
export { faxCoverSettingsOf, type FaxCoverSettings } from './fax/fax-cover-settings.ts';
export { NO_OUTBOUND_FAX_ROUTE } from './fax/fax-routes.ts';
export { type TemplateApplyJobData, type TemplateApplyJobResult } from './queues.ts';
export { enqueueTemplateApply, type TemplateApplyQueue } from './templates/template-apply-queue.ts';
