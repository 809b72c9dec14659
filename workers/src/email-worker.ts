import type { Processor } from 'bullmq';
import type { Mailer } from '@carillon/core';
import type { EmailJobData, EmailJobResult } from '@carillon/contracts/jobs';

/**
 * Processor for `email`: one message through the configured mailer (SMTP, or
 * the .eml outbox). A refusal throws, so BullMQ retries with backoff
 * (QUEUE_JOB_OPTIONS.email); the message is only sent once it is accepted.
 */
export function createEmailProcessor(mailer: Mailer): Processor<EmailJobData, EmailJobResult> {
  return async (job) => {
    const { to, subject, text, html } = job.data;
    await mailer.send({ to, subject, text, ...(html ? { html } : {}) });
    return { to, sentAt: new Date().toISOString() };
  };
}
