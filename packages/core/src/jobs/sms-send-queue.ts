import type { Queue } from 'bullmq';
import { QUEUE_JOB_OPTIONS, type SmsSendJobData, type SmsSendJobResult } from '@carillon/contracts/jobs';

export type SmsSendQueue = Queue<SmsSendJobData, SmsSendJobResult>;

/** Queues the sending of one message; the job id is the message id, so a message is queued once. */
export async function enqueueSmsSend(queue: SmsSendQueue, data: SmsSendJobData): Promise<void> {
  await queue.add('send', data, { ...QUEUE_JOB_OPTIONS['sms-send'], jobId: data.messageId });
}

/**
 * BullMQ priority of campaign texts. Jobs without a priority are taken
 * before any prioritised one, so a person's text (P2P, no priority) never
 * waits behind a campaign's batch in the shared queue.
 */
export const CAMPAIGN_SMS_PRIORITY = 100;

/** Queues the sending of campaign messages (A2P), behind any P2P text; a message already queued is not queued again. */
export async function enqueueCampaignSmsSends(queue: SmsSendQueue, accountId: string, messageIds: string[]): Promise<void> {
  if (messageIds.length === 0) return;
  await queue.addBulk(messageIds.map((messageId) => ({ name: 'send', data: { accountId, messageId }, opts: { ...QUEUE_JOB_OPTIONS['sms-send'], jobId: messageId, priority: CAMPAIGN_SMS_PRIORITY } })));
}
