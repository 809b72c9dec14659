import type { Mailer, OutgoingMail } from '@carillon/core';
import { appJobs } from './jobs.ts';
import type { Runtime } from './runtime.ts';

/** Who a queued message is for and why, for the queue page and the logs (never its content). */
export interface MailContext {
  accountId: string | null;
  userId: string | null;
  purpose: 'invitation' | 'password_reset' | 'conference_invite';
}

/**
 * A Mailer that hands each message to the `email` queue: the workers send it
 * (SMTP, or the .eml outbox without SMTP_URL) and retry while the server
 * refuses, so a slow or absent mail server never holds up a page.
 */
export function queuedMailer(rt: Runtime, ctx: MailContext): Mailer {
  return {
    async send(mail: OutgoingMail) {
      await appJobs(rt).producer.add('email', ctx.purpose, { ...ctx, ...mail });
    },
  };
}
