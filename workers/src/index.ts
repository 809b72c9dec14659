export { QueueName, QUEUE_PREFIX, type QueueJobs, type JobData, type JobResult, type HealthJobData, type HealthJobResult, QUEUE_JOB_OPTIONS, USER_FACING_QUEUES, type JobOwner, type JobProgress, type TranscriptionJobData, type TranscriptionJobResult, type EmailJobData, type EmailJobResult } from '@carillon/contracts/jobs';
export { createRedisConnection, requestWorkersHealth, type WorkersHealth, type RequestWorkersHealthOptions } from '@carillon/core/jobs';
export { createJobProducer, type JobProducer } from '@carillon/core/jobs';
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
} from '@carillon/core/jobs';
export { type RecordingExportJobData, type RecordingExportJobResult } from '@carillon/contracts/jobs';
export {
  recordingExportRequest,
  effectiveExportFilters,
  type RecordingExportRequest,
  type RecordingExportFilters,
} from '@carillon/contracts/recording-export-filters';
export { enqueueRecordingExport, type RecordingExportQueue } from '@carillon/core/jobs';
export { expireExport } from '@carillon/core/recording-exports';
export { type FaxJobData, type FaxJobResult } from '@carillon/contracts/jobs';
export { enqueueFax, type FaxQueue, type EnqueueFaxOptions } from '@carillon/core/jobs';
export {
  createFax,
  faxComposeRequest,
  normaliseFaxNumber,
  FaxComposeError,
  MAX_FAX_RECIPIENTS,
  MAX_FAX_ATTACHMENTS,
  type FaxComposeRequest,
  type FaxUpload,
} from '@carillon/core/fax';
export { faxDirectory, faxPdfPath, faxInboxPdfPath } from '@carillon/core/fax';
export { faxCoverSettingsOf, type FaxCoverSettings } from '@carillon/core/fax';
export { NO_OUTBOUND_FAX_ROUTE } from '@carillon/core/fax';
export { type TemplateApplyJobData, type TemplateApplyJobResult } from '@carillon/contracts/jobs';
export { enqueueTemplateApply, type TemplateApplyQueue } from '@carillon/core/jobs';
