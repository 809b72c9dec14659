import type { Logger } from '@carillon/config';
import { clearSmsOptOut, queueOutboundSms, recordInboundSms, recordSmsOptOut, smsCarrierConnection, type SmsCarrierConnection } from '@carillon/core/sms';
import type { SecretBox } from '@carillon/core';
import { sql, type Db } from '@carillon/db';
import { smsKeywordLanguage, smsKeywordOf, smsKeywordReply } from '@carillon/domain';
import { randomUUID } from 'node:crypto';
import type { SmsEvent } from '@carillon/contracts/sms-events';
import type { DeliveryReceipt } from './delivery-receipt.ts';
import type { AssembledMessage } from './multipart-assembler.ts';
import type { SegmentRateLimiter } from './segment-rate-limiter.ts';
import { DEFAULT_SMPP_CLIENT_OPTIONS, SmppClient, type SmppClientOptions } from './smpp-client.ts';

export interface SmsGatewayDeps {
  db: () => Promise<Db>;
  /** Opens the carriers' sealed passwords. */
  box: () => SecretBox;
  log: Logger;
  /** Queues the sms-send job of a message (keyword replies). */
  enqueue: (accountId: string, messageId: string) => Promise<void>;
  /** Tells the app a text was received or changed status (live events); never throws. */
  publish?: (event: SmsEvent) => void;
  /** Queues the notification e-mails of a text received (sms-notify.ts); absent: none are sent. */
  notifyReceived?: (accountId: string, messageId: string) => Promise<unknown>;
  /** The segment rate limits every process bound to a carrier shares (Redis). */
  rateLimiter: SegmentRateLimiter;
  /** Protocol settings for every client (tests shorten the timeouts). */
  clientOptions?: Partial<Omit<SmppClientOptions, 'onReceipt' | 'onInbound' | 'log'>>;
}

/** Receipts that came before the submit_sm_resp they answer was stored; kept this many at most. */
const MAX_EARLY_RECEIPTS = 10_000;

/** Receipt stat words that end a message as not delivered. */
const FAILED_STATS = ['EXPIRED', 'DELETED', 'UNDELIV', 'REJECTD'];

/**
 * The SMPP clients of this workers process, one per carrier, opened on first
 * use (and at start, to receive texts), and what their receipts and inbound
 * texts do to the database.
 */
export class SmsGateway {
  private readonly deps: SmsGatewayDeps;
  private readonly clients = new Map<string, Promise<{ client: SmppClient; carrier: SmsCarrierConnection } | undefined>>();
  private readonly earlyReceipts = new Map<string, DeliveryReceipt>();
  private closed = false;

  constructor(deps: SmsGatewayDeps) {
    this.deps = deps;
  }

  /** The bound (or binding) client of a carrier; undefined when the carrier is gone or disabled. */
  client(carrierId: string): Promise<SmppClient | undefined> {
    let entry = this.clients.get(carrierId);
    if (!entry) {
      entry = this.open(carrierId);
      this.clients.set(carrierId, entry);
      // A carrier not found is looked up again next time (it may be configured meanwhile).
      void entry.then((e) => {
        if (!e) this.clients.delete(carrierId);
      }, () => this.clients.delete(carrierId));
    }
    return entry.then((e) => e?.client);
  }

  private async open(carrierId: string): Promise<{ client: SmppClient; carrier: SmsCarrierConnection } | undefined> {
    if (this.closed) return undefined;
    const db = await this.deps.db();
    const carrier = await smsCarrierConnection(db, this.deps.box(), carrierId);
    if (!carrier) return undefined;
    const client = new SmppClient({
      ...DEFAULT_SMPP_CLIENT_OPTIONS,
      host: carrier.host,
      port: carrier.port,
      systemId: carrier.systemId,
      password: carrier.password,
      systemType: carrier.systemType,
      bindMode: carrier.bindMode,
      windowSize: carrier.windowSize,
      segmentsPerSecond: carrier.segmentsPerSecond,
      senderSegmentsPerSecond: carrier.senderSegmentsPerSecond,
      rateLimiter: this.deps.rateLimiter,
      rateLimitKey: carrier.id,
      ...this.deps.clientOptions,
      log: this.deps.log.child(`smpp:${carrier.id}`),
      onReceipt: (r) => this.onReceipt(carrier, r),
      onInbound: (m) => this.onInbound(carrier, m),
    });
    client.start();
    return { client, carrier };
  }

  /** Records what the carrier took for each segment, then applies receipts that arrived first. */
  async recordSubmissions(accountId: string, messageId: string, carrierId: string, ids: (string | null)[]): Promise<void> {
    const rows = ids.flatMap((id, segment) => (id ? [{ account_id: accountId, message_id: messageId, carrier_id: carrierId, segment, carrier_message_id: id }] : []));
    if (rows.length === 0) return;
    const db = await this.deps.db();
    await db.insertInto('sms_submissions').values(rows).onConflict((oc) => oc.doNothing()).execute();
    for (const row of rows) {
      const key = `${carrierId}\u0000${row.carrier_message_id}`;
      const receipt = this.earlyReceipts.get(key);
      if (receipt) {
        this.earlyReceipts.delete(key);
        await this.applyReceipt(db, carrierId, receipt);
      }
    }
  }

  private async onReceipt(carrier: SmsCarrierConnection, receipt: DeliveryReceipt): Promise<void> {
    if (receipt.outcome === 'pending') return;
    const db = await this.deps.db();
    if (await this.applyReceipt(db, carrier.id, receipt)) return;
    // The receipt overtook the storing of its submit_sm_resp: park it, then look once more, so that
    // whichever of the two comes second applies it (recordSubmissions checks the parked ones).
    const key = `${carrier.id}\u0000${receipt.messageId}`;
    if (this.earlyReceipts.size >= MAX_EARLY_RECEIPTS) this.earlyReceipts.delete(this.earlyReceipts.keys().next().value!);
    this.earlyReceipts.set(key, receipt);
    if (await this.applyReceipt(db, carrier.id, receipt)) this.earlyReceipts.delete(key);
  }

  /** False when no submission has that id (yet). */
  private async applyReceipt(db: Db, carrierId: string, receipt: DeliveryReceipt): Promise<boolean> {
    const hit = await db
      .updateTable('sms_submissions')
      .set({ receipt_state: receipt.stat, receipt_error: receipt.error, receipted_at: new Date() })
      .where('carrier_id', '=', carrierId)
      .where('carrier_message_id', '=', receipt.messageId)
      .returning(['message_id', 'account_id'])
      .executeTakeFirst();
    if (!hit) return false;
    // One statement settles the message from all its segments' receipts: failed as soon as one
    // segment failed, delivered once every segment was. A receipt proves the carrier took the
    // message, so it settles an 'unknown' (or a 'sending' whose answer is still being stored) too.
    const settled = await sql`
      with seg as (
        select count(*) filter (where receipt_state = 'DELIVRD') as delivered,
               (array_agg(receipt_state) filter (where receipt_state in (${sql.join(FAILED_STATS)})))[1] as failed_state,
               (array_agg(receipt_error) filter (where receipt_state in (${sql.join(FAILED_STATS)})))[1] as failed_error
        from sms_submissions where message_id = ${hit.message_id} and account_id = ${hit.account_id})
      update sms_messages m set
        status = case when seg.failed_state is not null then 'failed' else 'delivered' end,
        reason = case when seg.failed_state is not null then 'not delivered: ' || seg.failed_state else null end,
        carrier_error_code = case when seg.failed_error ~ '^[0-9]{1,9}$' then seg.failed_error::integer else m.carrier_error_code end,
        completed_at = now(), updated_at = now()
      from seg
      where m.id = ${hit.message_id} and m.account_id = ${hit.account_id}
        and m.status in ('sent', 'unknown', 'sending')
        and (seg.failed_state is not null or seg.delivered >= m.segments)
      returning m.id`.execute(db);
    if (settled.rows.length > 0) this.deps.publish?.({ kind: 'status', accountId: hit.account_id, messageId: hit.message_id });
    return true;
  }

  /**
   * A text received: keywords first (an opt-out is stored before the text,
   * so no send that starts after this deliver_sm is answered can miss it),
   * then the text, then any automatic answer.
   */
  private async onInbound(carrier: SmsCarrierConnection, message: AssembledMessage): Promise<void> {
    const db = await this.deps.db();
    const keyword = smsKeywordOf(message.text);
    if (keyword === 'opt-out') await recordSmsOptOut(db, carrier.accountId, message.to, message.from, message.text.trim().slice(0, 20));
    if (keyword === 'opt-in') await clearSmsOptOut(db, carrier.accountId, message.to, message.from);
    const inboundId = await recordInboundSms(db, {
      accountId: carrier.accountId,
      carrierId: carrier.id,
      from: message.from,
      to: message.to,
      body: message.complete ? message.text : `${message.text} […]`,
      encoding: message.encoding,
      segments: message.parts,
      idempotencyKey: `inbound:${randomUUID()}`,
    });
    this.deps.publish?.({ kind: 'received', accountId: carrier.accountId, messageId: inboundId });
    // The text is stored: a failure to queue its e-mail is logged, not thrown, or the SMSC would deliver
    // the text again and it would be stored twice.
    await this.deps.notifyReceived?.(carrier.accountId, inboundId).catch((err: unknown) => this.deps.log.warn('text notification e-mails not queued', { messageId: inboundId, error: err }));
    // One answer to each keyword, STOP included (the confirmation that nothing more will come).
    if (keyword) {
      const account = await db.selectFrom('accounts').select(['company_name', 'language']).where('id', '=', carrier.accountId).executeTakeFirstOrThrow();
      const language = smsKeywordLanguage(message.text) === 'fr' ? 'fr' : account.language === 'fr' ? 'fr' : 'en';
      const reply = await queueOutboundSms(db, {
        accountId: carrier.accountId,
        userId: null,
        from: message.to,
        to: message.from,
        body: smsKeywordReply(keyword, account.company_name, language),
        trafficClass: carrier.trafficClass,
        // The answer goes back through the carrier the keyword came from.
        carrierId: carrier.id,
        purpose: 'keyword_reply',
        idempotencyKey: `keyword-reply:${inboundId}`,
      });
      if (reply.created) await this.deps.enqueue(carrier.accountId, reply.messageId);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const entries = await Promise.all([...this.clients.values()].map((p) => p.catch(() => undefined)));
    this.clients.clear();
    await Promise.all(entries.map((e) => e?.client.close()));
  }
}
