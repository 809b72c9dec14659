import type { Logger } from '@carillon/config';
import { readUdh, smsEncodingOfDataCoding, type SmsEncoding, type SmsSplit } from '@carillon/domain';
import { parseDeliveryReceipt, type DeliveryReceipt } from './delivery-receipt.ts';
import { MultipartAssembler, type AssembledMessage } from './multipart-assembler.ts';
import { ESM_TYPE_DELIVERY_RECEIPT, ESM_TYPE_MASK, ESM_UDH_INDICATOR, SmppPdu, smppStatusName, SmppStatus } from './smpp-package.ts';
import { SmppLink, type SmppLinkOptions } from './smpp-link.ts';
import type { SegmentRateLimiter } from './segment-rate-limiter.ts';

export interface SmppClientOptions extends Omit<SmppLinkOptions, 'bind' | 'log'> {
  /** One transceiver session, or a transmitter and a receiver where the carrier asks for it. */
  bindMode: 'transceiver' | 'transmitter_receiver';
  /** submit_sm written and not yet answered, at most (10 by default). */
  windowSize: number;
  /** Rate limits in segments per second: the whole bind, and each sender number. */
  segmentsPerSecond: number;
  senderSegmentsPerSecond: number;
  /** Where the limits are counted: shared by every process bound to the same carrier. */
  rateLimiter: SegmentRateLimiter;
  /** Names the carrier's buckets in the limiter (its id): processes with the same key share the limits. */
  rateLimitKey: string;
  /** First pause after ESME_RTHROTTLED / ESME_RMSGQFUL; doubles while the SMSC keeps refusing, up to throttleMaxMs. */
  throttleInitialMs: number;
  throttleMaxMs: number;
  /** Segments waiting to be written, at most; a submit beyond it is refused at once (the job retries later). */
  maxQueuedSegments: number;
  /** Inbound multipart messages being reassembled, at most, and for how long. */
  maxPendingMultipart: number;
  multipartMaxAgeMs: number;
  /** deliver_sm being stored at once, at most; beyond it the SMSC is told ESME_RTHROTTLED and sends again later. */
  maxInboundInFlight: number;
  log: Logger;
  /** A delivery receipt; the deliver_sm is answered once this settles (an error makes the SMSC send it again). */
  onReceipt: (receipt: DeliveryReceipt) => Promise<void>;
  /** A text received (reassembled when it came in parts); answered like receipts. */
  onInbound: (message: AssembledMessage) => Promise<void>;
}

export const DEFAULT_SMPP_CLIENT_OPTIONS = {
  bindMode: 'transceiver',
  windowSize: 10,
  segmentsPerSecond: 50,
  senderSegmentsPerSecond: 10,
  systemType: '',
  enquireLinkMs: 30_000,
  responseTimeoutMs: 10_000,
  reconnectInitialMs: 500,
  reconnectMaxMs: 30_000,
  throttleInitialMs: 200,
  throttleMaxMs: 10_000,
  maxQueuedSegments: 10_000,
  maxPendingMultipart: 1_000,
  multipartMaxAgeMs: 10 * 60_000,
  maxInboundInFlight: 100,
} as const satisfies Partial<SmppClientOptions>;

export interface OutboundSms {
  /** E.164 digits with or without '+'. */
  from: string;
  to: string;
  split: SmsSplit;
}

/**
 * What became of a message. 'unknown': a segment was written and its answer
 * never came (connection lost, SMSC stalled), so the SMSC may or may not have
 * it; sending it again could deliver it twice, so it is not resent.
 * 'not-sent': nothing was written (the client closed first); safe to retry.
 * carrierMessageIds has one entry per segment, null where none was accepted.
 */
export type SubmitOutcome =
  | { status: 'accepted'; carrierMessageIds: string[] }
  | { status: 'failed'; errorCode: number; reason: string; carrierMessageIds: (string | null)[] }
  | { status: 'unknown'; reason: string; carrierMessageIds: (string | null)[] }
  | { status: 'not-sent'; reason: string };

export class SubmitQueueFullError extends Error {}

type SegmentResult = { kind: 'accepted'; id: string } | { kind: 'failed'; code: number; reason: string } | { kind: 'unknown'; reason: string } | { kind: 'not-sent'; reason: string };

interface PendingMessage {
  sms: OutboundSms;
  results: (SegmentResult | undefined)[];
  resolve: (outcome: SubmitOutcome) => void;
}

interface SegmentItem {
  message: PendingMessage;
  index: number;
}

interface Outstanding {
  item: SegmentItem;
  timer: NodeJS.Timeout;
}

/** Statuses after which a segment was not taken and may be written again (SMPP 3.4 §5.1.3). */
const RETRY_LATER = new Set<number>([SmppStatus.THROTTLED, SmppStatus.MESSAGE_QUEUE_FULL]);

const addressOf = (number: string): string => number.replace(/^\+/, '');

/** Pause before asking an unreachable limiter again. */
const LIMITER_RETRY_MS = 500;

/**
 * An SMPP 3.4 client for one carrier account: submits segments through a
 * window, within the rate limits, resends only what the SMSC provably did not
 * take, and hands receipts and inbound texts to its owner. The queue of
 * segments not yet written survives reconnects.
 */
export class SmppClient {
  private readonly options: SmppClientOptions;
  private readonly tx: SmppLink;
  private readonly rx: SmppLink | null;
  private readonly queue: SegmentItem[] = [];
  private readonly outstanding = new Map<number, Outstanding>();
  private readonly assembler: MultipartAssembler;
  private throttledUntil = 0;
  private throttleMs: number;
  private pumpTimer: NodeJS.Timeout | null = null;
  private pumpAt = Infinity;
  /** A pump round is running (it awaits the limiter); a call meanwhile asks for one more round. */
  private pumping = false;
  private pumpAgain = false;
  private closed = false;
  private inboundInFlight = 0;
  /** Counters for tests and health: what was written, answered, and dropped unanswered. */
  readonly stats = { written: 0, accepted: 0, throttled: 0, failed: 0, unknown: 0, reconnects: 0 };

  constructor(options: SmppClientOptions) {
    this.options = options;
    const linkOptions = { ...options, log: options.log };
    this.tx = new SmppLink({ ...linkOptions, bind: options.bindMode === 'transceiver' ? 'bind_transceiver' : 'bind_transmitter' });
    this.rx = options.bindMode === 'transmitter_receiver' ? new SmppLink({ ...linkOptions, bind: 'bind_receiver' }) : null;
    this.assembler = new MultipartAssembler({ maxPending: options.maxPendingMultipart, maxAgeMs: options.multipartMaxAgeMs });
    this.throttleMs = options.throttleInitialMs;
    this.tx.on('bound', () => this.pump());
    this.tx.on('down', (reason) => this.onTxDown(reason));
    for (const link of [this.tx, this.rx]) link?.on('pdu', (pdu) => this.onPdu(link, pdu));
  }

  start(): void {
    this.tx.start();
    this.rx?.start();
  }

  get isBound(): boolean {
    return this.tx.state === 'bound' && (!this.rx || this.rx.state === 'bound');
  }

  get queuedSegments(): number {
    return this.queue.length;
  }

  submit(sms: OutboundSms): Promise<SubmitOutcome> {
    if (this.closed) return Promise.resolve({ status: 'not-sent', reason: 'SMPP client closed' });
    if (this.queue.length + sms.split.segments.length > this.options.maxQueuedSegments) {
      return Promise.reject(new SubmitQueueFullError(`more than ${this.options.maxQueuedSegments} segments waiting for the SMSC`));
    }
    return new Promise<SubmitOutcome>((resolve) => {
      const message: PendingMessage = { sms, results: sms.split.segments.map(() => undefined), resolve };
      for (let index = 0; index < sms.split.segments.length; index++) this.queue.push({ message, index });
      this.pump();
    });
  }

  /**
   * Stops: segments not yet written end 'not-sent', those awaiting an answer
   * 'unknown'; then the links unbind.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    for (const item of this.queue.splice(0)) this.settle(item, { kind: 'not-sent', reason: 'SMPP client closed' });
    this.failOutstanding('SMPP client closed before the answer');
    await Promise.all([this.tx.close(), this.rx?.close()]);
  }

  /** Writes what the window, the rate limits and a throttling pause allow; one round at a time. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    this.pumpAgain = false;
    this.pumpRound()
      .catch((err: unknown) => {
        // The limiter (Redis) is unreachable: wait rather than send past the limits.
        this.options.log.warn('SMS rate limiter unavailable; sending paused', { error: err });
        this.schedulePump(LIMITER_RETRY_MS);
      })
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) this.pump();
      });
  }

  private async pumpRound(): Promise<void> {
    // Senders whose bucket was empty in this round, and when it has a token again: skipped until then.
    const senderReadyAt = new Map<string, number>();
    while (!this.closed && this.tx.state === 'bound' && this.outstanding.size < this.options.windowSize && this.queue.length > 0) {
      let now = Date.now();
      if (this.throttledUntil > now) return this.schedulePump(this.throttledUntil - now);
      // The first segment whose sender may send now: one busy sender does not hold the others.
      const item = this.queue.find((queued) => (senderReadyAt.get(queued.message.sms.from) ?? 0) <= now);
      if (!item) return this.schedulePump(Math.max(1, Math.min(...senderReadyAt.values()) - now));
      const sender = item.message.sms.from;
      // This sender's next segments, as many as the window has room for: one limiter call for all of them.
      const batch: SegmentItem[] = [];
      const room = this.options.windowSize - this.outstanding.size;
      for (const queued of this.queue) {
        if (queued.message.sms.from === sender) batch.push(queued);
        if (batch.length >= room) break;
      }
      const decision = await this.options.rateLimiter.take(this.options.rateLimitKey, sender, batch.length, this.options);
      now = Date.now();
      if ('blockedBy' in decision) {
        if (decision.blockedBy === 'bind') return this.schedulePump(decision.waitMs);
        senderReadyAt.set(sender, now + decision.waitMs);
        continue;
      }
      for (const next of batch.slice(0, decision.granted)) {
        // The queue may have changed while the limiter answered (closed, a sibling part refused): that token is spent.
        const index = this.queue.indexOf(next);
        if (this.closed || this.tx.state !== 'bound') return;
        if (index < 0 || this.outstanding.size >= this.options.windowSize) continue;
        const pdu = this.submitPdu(next);
        if (!this.tx.send(pdu)) return; // not written: it stays queued for the next bind
        this.queue.splice(index, 1);
        this.stats.written++;
        const timer = setTimeout(() => this.onResponseTimeout(pdu.sequence_number), this.options.responseTimeoutMs);
        this.outstanding.set(pdu.sequence_number, { item: next, timer });
      }
    }
  }

  private schedulePump(ms: number): void {
    if (this.closed) return;
    const at = Date.now() + ms;
    if (this.pumpTimer && this.pumpAt <= at) return;
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpAt = at;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = null;
      this.pumpAt = Infinity;
      this.pump();
    }, ms);
  }

  private submitPdu(item: SegmentItem): SmppPdu {
    const { sms } = item.message;
    const segment = sms.split.segments[item.index]!;
    const body = segment.udh ? Buffer.concat([segment.udh, segment.payload]) : Buffer.from(segment.payload);
    return new SmppPdu('submit_sm', {
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: addressOf(sms.from),
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: addressOf(sms.to),
      esm_class: segment.udh ? ESM_UDH_INDICATOR : 0,
      data_coding: sms.split.dataCoding,
      // SMSC delivery receipt on final outcome, success or failure (SMPP 3.4 §5.2.17).
      registered_delivery: 1,
      short_message: body,
    });
  }

  private onPdu(link: SmppLink, pdu: SmppPdu): void {
    if (pdu.command === 'submit_sm_resp' || pdu.command === 'generic_nack') {
      this.onSubmitResponse(pdu);
      return;
    }
    if (pdu.command === 'deliver_sm') {
      // The SMSC decides how fast texts come: past the limit it is asked to slow down, nothing is held.
      if (this.inboundInFlight >= this.options.maxInboundInFlight) {
        link.send(pdu.response({ command_status: SmppStatus.THROTTLED }));
        return;
      }
      this.inboundInFlight++;
      void this.onDeliver(link, pdu).finally(() => this.inboundInFlight--);
      return;
    }
    if (!pdu.isResponse()) link.send(pdu.response({ command_status: 0x0003 })); // ESME_RINVCMDID: not something an ESME takes
  }

  private onSubmitResponse(pdu: SmppPdu): void {
    const entry = this.outstanding.get(pdu.sequence_number);
    if (!entry) {
      // Answer after its timeout: the message is already 'unknown', and stays so.
      this.options.log.warn('late submit_sm_resp ignored', { sequence: pdu.sequence_number, status: smppStatusName(pdu.command_status) });
      return;
    }
    clearTimeout(entry.timer);
    this.outstanding.delete(pdu.sequence_number);
    const status = pdu.command === 'generic_nack' && pdu.command_status === 0 ? SmppStatus.SYSTEM_ERROR : pdu.command_status;
    if (status === SmppStatus.OK && pdu.command === 'submit_sm_resp') {
      this.throttleMs = this.options.throttleInitialMs;
      this.stats.accepted++;
      this.settle(entry.item, { kind: 'accepted', id: String(pdu.message_id ?? '') });
    } else if (RETRY_LATER.has(status) || status === SmppStatus.INVALID_BIND_STATUS) {
      // Refused, so not taken: safe to write again, after a pause that grows while the SMSC keeps refusing.
      this.stats.throttled++;
      this.queue.unshift(entry.item);
      this.throttledUntil = Date.now() + this.throttleMs;
      this.throttleMs = Math.min(this.throttleMs * 2, this.options.throttleMaxMs);
    } else {
      this.stats.failed++;
      this.settle(entry.item, { kind: 'failed', code: status, reason: `refused by the carrier: ${smppStatusName(status)}` });
    }
    this.pump();
  }

  private onResponseTimeout(sequence: number): void {
    const entry = this.outstanding.get(sequence);
    if (!entry) return;
    this.outstanding.delete(sequence);
    this.stats.unknown++;
    this.settle(entry.item, { kind: 'unknown', reason: `no submit_sm_resp within ${this.options.responseTimeoutMs} ms` });
    // An SMSC that stopped answering: a new connection is the way to find out whether it is alive.
    this.tx.drop('submit_sm unanswered');
  }

  private onTxDown(reason: string): void {
    this.stats.reconnects++;
    this.failOutstanding(`SMPP connection lost before the answer (${reason})`);
  }

  private failOutstanding(reason: string): void {
    for (const [sequence, entry] of this.outstanding) {
      clearTimeout(entry.timer);
      this.outstanding.delete(sequence);
      this.stats.unknown++;
      this.settle(entry.item, { kind: 'unknown', reason });
    }
  }

  private settle(item: SegmentItem, result: SegmentResult): void {
    const message = item.message;
    if (message.results[item.index]) return;
    message.results[item.index] = result;
    if (result.kind === 'failed') {
      // The rest of a refused message is not sent: a part alone is no use to the recipient.
      for (let i = this.queue.length - 1; i >= 0; i--) {
        const queued = this.queue[i]!;
        if (queued.message === message) {
          this.queue.splice(i, 1);
          message.results[queued.index] = { kind: 'not-sent', reason: 'another part was refused' };
        }
      }
    }
    if (message.results.some((r) => r === undefined)) return;
    message.resolve(outcomeOf(message.results as SegmentResult[]));
  }

  private async onDeliver(link: SmppLink, pdu: SmppPdu): Promise<void> {
    let status: number = SmppStatus.OK;
    try {
      const esmClass = Number(pdu.esm_class ?? 0);
      const short = pdu.short_message as { message?: unknown; udh?: Buffer[] } | undefined;
      const text = typeof short?.message === 'string' ? short.message : Buffer.isBuffer(short?.message) ? short.message.toString('latin1') : '';
      if ((esmClass & ESM_TYPE_MASK) === ESM_TYPE_DELIVERY_RECEIPT) {
        const receipt = parseDeliveryReceipt(text, { receiptedMessageId: pdu.receipted_message_id, messageState: pdu.message_state });
        if (receipt) await this.options.onReceipt(receipt);
        else this.options.log.warn('delivery receipt without a message id ignored');
      } else {
        const encoding: SmsEncoding = smsEncodingOfDataCoding(Number(pdu.data_coding ?? 0)) ?? 'gsm7';
        const from = `+${String(pdu.source_addr ?? '').replace(/^\+/, '')}`;
        const to = `+${String(pdu.destination_addr ?? '').replace(/^\+/, '')}`;
        const concatenation = short?.udh?.length ? readUdh(Uint8Array.from([short.udh.reduce((n, ie) => n + ie.length, 0), ...short.udh.flatMap((ie) => [...ie])]))?.concatenation : null;
        const done = concatenation
          ? this.assembler.add({ from, to, text, encoding, ...concatenation }, Date.now())
          : [...this.assembler.expire(Date.now()), { from, to, text, encoding, parts: 1, complete: true }];
        for (const message of done) await this.options.onInbound(message);
      }
    } catch (err) {
      // Not stored: a temporary error makes the SMSC deliver it again later (SMPP 3.4 §5.1.3 ESME_RX_T_APPN).
      this.options.log.error('deliver_sm not processed', { error: err });
      status = SmppStatus.TEMPORARY_APP_ERROR;
    }
    link.send(pdu.response({ command_status: status }));
  }
}

function outcomeOf(results: SegmentResult[]): SubmitOutcome {
  const ids = results.map((r) => (r.kind === 'accepted' ? r.id : null));
  const unknown = results.find((r) => r.kind === 'unknown');
  if (unknown) return { status: 'unknown', reason: unknown.reason, carrierMessageIds: ids };
  const failed = results.find((r) => r.kind === 'failed');
  if (failed) return { status: 'failed', errorCode: failed.code, reason: failed.reason, carrierMessageIds: ids };
  const notSent = results.find((r) => r.kind === 'not-sent');
  if (notSent) {
    // Part written and taken, part never written: the recipient may see a fragment; never resend the whole.
    if (ids.some((id) => id !== null)) return { status: 'unknown', reason: `only part of the message was sent (${notSent.reason})`, carrierMessageIds: ids };
    return { status: 'not-sent', reason: notSent.reason };
  }
  return { status: 'accepted', carrierMessageIds: ids as string[] };
}
