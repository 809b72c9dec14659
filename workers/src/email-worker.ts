import { UnrecoverableError, type Processor } from 'bullmq';
import type { Mailer } from '@carillon/core';
import { voicemailFilePath } from '@carillon/core/voicemail';
import type { EmailJobData, EmailJobResult } from '@carillon/contracts/jobs';

/**
 * Processor for `email`: one message through the configured mailer (SMTP, or
 * the .eml outbox). A refusal throws, so BullMQ retries with backoff
 * (QUEUE_JOB_OPTIONS.email); the message is only sent once it is accepted.
 * Attachments are files under DATA_DIR named by the job (a voicemail's MP3),
 * read when the message is built.
 */
export function createEmailProcessor(mailer: Mailer, dataDir: string): Processor<EmailJobData, EmailJobResult> {
  return async (job) => {
    const { to, subject, text, html, calendar } = job.data;
    const attachments = (job.data.attachments ?? []).map((a) => {
      const file = voicemailFilePath(dataDir, a.path);
      // A path out of DATA_DIR would mail any file of the machine: no retry makes it acceptable.
      if (!file) throw new UnrecoverableError('an attachment path leaves the data directory');
      return { filename: a.filename, path: file, contentType: a.contentType };
    });
    await mailer.send({ to, subject, text, ...(html ? { html } : {}), ...(attachments.length > 0 ? { attachments } : {}), ...(calendar ? { calendar } : {}) });
    return { to, sentAt: new Date().toISOString() };
  };
}
