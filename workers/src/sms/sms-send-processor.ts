import { UnrecoverableError, type Processor } from 'bullmq';
import { chooseSmsCarrier, isSmsOptedOut } from '@carillon/core/sms';
import type { Db } from '@carillon/db';
import { splitSms } from '@carillon/domain';
import type { SmsSendJobData, SmsSendJobResult } from '@carillon/contracts/jobs';
import type { SmsEvent } from '@carillon/contracts/sms-events';
import { SubmitQueueFullError } from './smpp-client.ts';
import type { SmsGateway } from './sms-gateway.ts';

export interface SmsSendDeps {
  db: () => Promise<Db>;
  gateway: SmsGateway;
  /** Tells the app a text changed status (live events); never throws. */
  publish?: (event: SmsEvent) => void;
}

/**
 * Processor for `sms-send`: submits one queued message to its carrier.
 *
 * Exactly once, or said otherwise: the row moves queued → sending before the
 * message is handed to the SMPP client, and only a 'queued' row is ever
 * handed over. A job that finds its row 'sending' ran before and stopped
 * after the hand-over (worker killed, lock lost): the SMSC may have the
 * message, so it is marked 'unknown' with the reason, never submitted again.
 * What the client provably did not write ('not-sent') goes back to 'queued'
 * and the job is retried.
 */
export function createSmsSendProcessor(deps: SmsSendDeps): Processor<SmsSendJobData, SmsSendJobResult> {
  return async (job) => {
    const db = await deps.db();
    const { accountId, messageId } = job.data;
    const message = await db
      .selectFrom('sms_messages')
      .selectAll()
      .where('id', '=', messageId)
      .where('account_id', '=', accountId)
      .where('direction', '=', 'outbound')
      .executeTakeFirst();
    if (!message) throw new UnrecoverableError('message not found');
    const finish = async (status: 'failed' | 'unknown' | 'queued' | 'sent', reason: string | null, from: readonly string[], extra: { carrier_error_code?: number | null; sent_at?: Date } = {}) => {
      const done = status === 'failed' || status === 'unknown';
      const changed = await db
        .updateTable('sms_messages')
        .set({ status, reason, updated_at: new Date(), ...(done ? { completed_at: new Date() } : {}), ...extra })
        .where('id', '=', messageId)
        .where('account_id', '=', accountId)
        .where('status', 'in', from as ('queued' | 'sending' | 'unknown')[])
        .executeTakeFirst();
      // Back to 'queued' is no news for the user: the text is still on its way.
      if (status !== 'queued' && Number(changed.numUpdatedRows) > 0) deps.publish?.({ kind: 'status', accountId, messageId });
      return { messageId, status };
    };
    if (message.status === 'sending') {
      return finish('unknown', 'an earlier attempt stopped after handing it to the SMSC; not sent again, to avoid a duplicate', ['sending']);
    }
    if (message.status !== 'queued') return { messageId, status: message.status };
    // Opt-outs are read here, the last moment before the hand-over. The answer to a keyword
    // (STOP's confirmation, HELP) is the one text a number that opted out still gets.
    if (message.purpose !== 'keyword_reply' && (await isSmsOptedOut(db, accountId, message.from_number, message.to_number))) {
      return finish('failed', 'opted_out: the recipient replied STOP', ['queued']);
    }
    const carrierId = message.carrier_id ?? (await chooseSmsCarrier(db, accountId, message.from_number, message.traffic_class));
    const client = carrierId ? await deps.gateway.client(carrierId) : undefined;
    if (!carrierId || !client) return finish('failed', 'no SMS carrier configured for this number', ['queued']);
    // The concatenation reference comes from the message id, so that every attempt of one message uses the same.
    const split = splitSms(message.body, parseInt(messageId.slice(0, 2), 16));
    const taken = await db
      .updateTable('sms_messages')
      .set({ status: 'sending', carrier_id: carrierId, updated_at: new Date() })
      .where('id', '=', messageId)
      .where('account_id', '=', accountId)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) === 0) return { messageId, status: 'sending' };
    let outcome;
    try {
      outcome = await client.submit({ from: message.from_number, to: message.to_number, split });
    } catch (err) {
      if (!(err instanceof SubmitQueueFullError)) throw err;
      await finish('queued', null, ['sending']);
      throw err; // retried with backoff once the client's queue has room
    }
    switch (outcome.status) {
      case 'accepted':
        await deps.gateway.recordSubmissions(accountId, messageId, carrierId, outcome.carrierMessageIds);
        // 'unknown' too: a second run of this job may have given up on it while the answer was on its way.
        return finish('sent', null, ['sending', 'unknown'], { sent_at: new Date() });
      case 'failed':
        await deps.gateway.recordSubmissions(accountId, messageId, carrierId, outcome.carrierMessageIds);
        return finish('failed', outcome.reason, ['sending'], { carrier_error_code: outcome.errorCode });
      case 'unknown':
        await deps.gateway.recordSubmissions(accountId, messageId, carrierId, outcome.carrierMessageIds);
        return finish('unknown', outcome.reason, ['sending']);
      case 'not-sent':
        await finish('queued', null, ['sending']);
        throw new Error(`not sent: ${outcome.reason}`);
    }
  };
}
