import { json } from '@sveltejs/kit';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AuthenticatedSession } from '@carillon/core';
import { enqueueSmsSend } from '@carillon/core/jobs';
import { failUnqueuedSms, queueUserSms, SMS_SEARCH_MAX_RESULTS, smsRequiresCleanContent, type UserSmsSendError } from '@carillon/core/sms';
import { checkSmsContent } from '@carillon/domain';
import { smsContentWarningsJson, uncleanContentResponse } from './sms-campaigns.ts';
import { appJobs } from '../jobs.ts';
import type { Runtime } from '../runtime.ts';

/** The conversation list's filter: one of the user's numbers. */
export const smsListQuery = z.object({ number: z.string().regex(/^\+[1-9][0-9]{6,14}$/).optional() }).strict();

/** Search in the user's texts: a word of a text or part of a number; at most 100 results. */
export const smsSearchQuery = z
  .object({
    q: z.string().trim().min(1, 'enter a word or a number').max(100),
    limit: z.coerce.number().int().min(1).max(SMS_SEARCH_MAX_RESULTS).default(50),
  })
  .strict();

/** A text from the composer (My Extension › Messages). `to` is as typed: numbers or contacts' names separated by commas or semicolons. */
export const smsSendSchema = z
  .object({
    from: z.string().min(1).max(32),
    to: z.string().min(1).max(4000),
    group: z.boolean().default(false),
    body: z.string().min(1).max(1600),
    /** Chosen by the browser, so that a retried request sends nothing twice. */
    sendId: z.string().uuid().optional(),
  })
  .strict();

/** The clear sentence each refusal carries (the page shows it as is). */
export function smsSendErrorMessage(error: UserSmsSendError): string {
  switch (error.code) {
    case 'not_your_number':
      return `${error.from} is not one of your numbers`;
    case 'empty_body':
      return 'the message is empty';
    case 'too_long':
      return `the message takes ${error.segments} segments; at most ${error.max} are allowed`;
    case 'recipients':
      return error.errors
        .map((e) => {
          switch (e.code) {
            case 'empty':
              return 'enter at least one recipient';
            case 'too_many':
              return e.max === 10 ? `a group text has at most ${e.max} recipients (${e.count} given)` : `at most ${e.max} recipients (${e.count} given)`;
            case 'invalid_number':
              return `${e.entry} is not a phone number`;
            case 'unknown_contact':
              return `no contact of yours is named ${e.entry}`;
            case 'ambiguous_contact':
              return `${e.count} of your contacts named ${e.entry} have different numbers: type the number`;
            case 'group_outside_us_ca_pr':
              return `${e.entry}: group texts go to US, Canadian and Puerto Rican numbers only`;
          }
        })
        .join('; ');
  }
}

/** Stores and queues a user's text: one sms-send job per recipient (the workers own SMPP). */
export async function sendUserSms(rt: Runtime, auth: AuthenticatedSession, body: z.output<typeof smsSendSchema>): Promise<Response> {
  const user = { accountId: auth.account.id, userId: auth.user.id };
  const warnings = checkSmsContent(body.body);
  if (warnings.length > 0 && (await smsRequiresCleanContent(rt.db, user.accountId))) return uncleanContentResponse(warnings);
  const result = await queueUserSms(rt.db, user, { ...body, sendId: body.sendId ?? randomUUID() });
  if (!result.ok) {
    const error = result.error.code === 'recipients' ? (result.error.errors[0]?.code ?? 'recipients') : result.error.code;
    return json({ error, message: smsSendErrorMessage(result.error), ...(result.error.code === 'recipients' ? { errors: result.error.errors } : {}) }, { status: 400 });
  }
  const unqueued = await enqueueSmsSends(rt, user.accountId, result.messageIds);
  if (unqueued) return unqueued;
  return json({ messageIds: result.messageIds, conversationIds: result.conversationIds, warnings: smsContentWarningsJson(warnings) }, { status: 201 });
}

/**
 * Hands stored texts to the workers (one sms-send job each). A queue that
 * cannot be reached fails the texts with the reason rather than leave them
 * queued for ever: the 503 answered then, or null once they are queued.
 */
export async function enqueueSmsSends(rt: Runtime, accountId: string, messageIds: string[]): Promise<Response | null> {
  try {
    const queue = appJobs(rt).producer.queue('sms-send');
    await withTimeout(Promise.all(messageIds.map((messageId) => enqueueSmsSend(queue, { accountId, messageId }))), 10_000);
    return null;
  } catch (err) {
    const message = 'the job queue is unavailable; try again later';
    rt.log.error('texts not queued', { count: messageIds.length, error: err instanceof Error ? err.message : String(err) });
    await failUnqueuedSms(rt.db, accountId, messageIds, message);
    return json({ error: 'queue_unavailable', message }, { status: 503 });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}
