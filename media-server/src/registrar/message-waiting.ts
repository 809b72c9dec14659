import { sql } from 'kysely';
import type { Logger } from '@carillon/config';
import type { Db } from '@carillon/db';
import { parseVoicemailEvent } from '@carillon/contracts/voicemail-events';
import { Dialog } from '../sip/dialog/dialog.ts';
import { createResponse, newTag, type SipRequest, type SipResponse } from '../sip/message/index.ts';
import type { NonInviteServerTransaction, TransactionLayer } from '../sip/transaction/index.ts';
import type { SipSource } from '../sip/transport/index.ts';
import { authenticateDevice, namesDeviceExtension, type DeviceAuthenticationDeps } from './device-authentication.ts';
import { formatMessageSummary, sameCounts, MESSAGE_SUMMARY_EVENT, MESSAGE_SUMMARY_TYPE, type MailboxCounts } from './message-summary.ts';
import { SubscriptionTable, type SubscriptionLimits } from './subscription-table.ts';

export interface MessageWaitingSettings {
  /** Bounds of a subscription's duration, in seconds (as for registrations). */
  minExpires: number;
  maxExpires: number;
  limits: SubscriptionLimits;
}

/** One device's subscription to its mailbox's message summary (RFC 3842 over RFC 6665). */
interface MessageSummarySubscription {
  dialog: Dialog;
  /** Where NOTIFYs go: back where the SUBSCRIBE came from (the phone's NAT binding or connection). */
  target: SipSource;
  accountId: string;
  mailboxExtensionId: string;
  deviceId: string;
  /** The Event header as the subscriber sent it (with its id parameter, §8.2.1), repeated in each NOTIFY. */
  event: string;
  expiresAt: number;
  /** What the last NOTIFY said; null before the first. */
  lastSent: MailboxCounts | null;
  /** NOTIFYs go one at a time, in order (RFC 6665 §4.2.2: a new one waits for the previous one's final response). */
  queue: Promise<void>;
  /** A NOTIFY is queued and has not read the counts yet: more changes meanwhile need no other (the queue stays bounded). */
  pending: boolean;
  /** The queued NOTIFY goes even if the counts did not change (a refresh is answered with one). */
  force: boolean;
  ended: boolean;
}

const EMPTY: MailboxCounts = { newMessages: 0, oldMessages: 0, urgentNew: 0, urgentOld: 0 };

/**
 * Message-waiting indication (RFC 3842): the notifier of the message-summary
 * event package (RFC 6665 §4.2). A device subscribes to its own extension's
 * mailbox (digest, like REGISTER); it gets a NOTIFY at once and whenever the
 * mailbox's counts change, which it learns from the voicemail events on Redis
 * (contracts/voicemail-events.ts). Subscriptions live in this node's memory,
 * bounded; a phone re-subscribes to another node after a restart, as it must
 * refresh anyway.
 */
export class MessageWaitingNotifier {
  readonly #subscriptions: SubscriptionTable<MessageSummarySubscription>;
  /** The same subscriptions by mailbox (`account mailbox`), for the voicemail events. */
  readonly #byMailbox = new Map<string, Set<MessageSummarySubscription>>();
  readonly #deps: DeviceAuthenticationDeps & { db: Db; transactions: TransactionLayer; localContact: (source: SipSource) => string; settings: MessageWaitingSettings; log: Logger };

  constructor(deps: DeviceAuthenticationDeps & { db: Db; transactions: TransactionLayer; localContact: (source: SipSource) => string; settings: MessageWaitingSettings; log: Logger }) {
    this.#deps = deps;
    // §4.2.2: when a subscription expires, the notifier sends a final NOTIFY (terminated;reason=timeout).
    this.#subscriptions = new SubscriptionTable(deps.settings.limits, (_id, sub) => {
      this.#unindex(sub);
      this.#end(sub, 'timeout');
    });
  }

  get subscriptionCount(): number {
    return this.#subscriptions.size;
  }

  /** A SUBSCRIBE, in or out of a dialog. Answered on `tx`. */
  async handleSubscribe(req: SipRequest, tx: NonInviteServerTransaction, source: SipSource): Promise<void> {
    tx.respond(await this.#answer(req, source));
  }

  async #answer(req: SipRequest, source: SipSource): Promise<SipResponse> {
    const event = req.get('event') ?? '';
    // RFC 6665 §8.2.4 / §4.1.3: a package we do not know gets 489, listing the ones we do.
    if (event.split(';')[0]!.trim().toLowerCase() !== MESSAGE_SUMMARY_EVENT) return createResponse(req, 489).add('allow-events', MESSAGE_SUMMARY_EVENT);
    const expires = parseExpires(req.get('expires'));
    if (expires === 'invalid') return createResponse(req, 400, { reason: 'Invalid Expires' });
    if (expires !== null && expires > 0 && expires < this.#deps.settings.minExpires) {
      // RFC 6665 §4.2.1.1: too short a subscription gets 423 with Min-Expires.
      return createResponse(req, 423).set('min-expires', this.#deps.settings.minExpires);
    }
    const accept = req.getAll('accept').flatMap((a) => a.split(',')).map((a) => a.split(';')[0]!.trim().toLowerCase()).filter(Boolean);
    if (accept.length && !accept.some((a) => a === MESSAGE_SUMMARY_TYPE || a === 'application/*' || a === '*/*')) return createResponse(req, 406).add('accept', MESSAGE_SUMMARY_TYPE);
    const seconds = expires === null ? this.#deps.settings.maxExpires : Math.min(expires, this.#deps.settings.maxExpires);
    return req.to()?.params.get('tag') ? this.#inDialog(req, seconds) : this.#newSubscription(req, source, event, seconds);
  }

  async #newSubscription(req: SipRequest, source: SipSource, event: string, seconds: number): Promise<SipResponse> {
    const auth = await authenticateDevice(req, source.remoteAddress, this.#deps);
    if ('response' in auth) return auth.response;
    const { device, username } = auth;
    // The resource is the mailbox named by the Request-URI (RFC 6665 §4.1.2): only the device's own extension's.
    const mailbox = /^sips?:([^@;?]+)@/i.exec(req.uri)?.[1] ?? '';
    if (!namesDeviceExtension(decodeURIComponent(mailbox), device, username)) return createResponse(req, 403, { reason: 'Not Your Mailbox' });
    const localTag = newTag();
    const dialog = Dialog.fromIncomingInvite(req, localTag, this.#deps.localContact(source));
    if (!dialog) return createResponse(req, 400, { reason: 'Missing Contact Or From Tag' });
    const sub: MessageSummarySubscription = { dialog, target: source, accountId: device.accountId, mailboxExtensionId: device.extensionId, deviceId: device.deviceId, event, expiresAt: Date.now() + seconds * 1000, lastSent: null, queue: Promise.resolve(), pending: false, force: false, ended: false };
    if (seconds > 0) {
      const refusal = this.#subscriptions.add(dialog.id, device.deviceId, sub, seconds);
      if (refusal) {
        this.#deps.log.warn('message-summary subscription refused: table full', { refusal, deviceId: device.deviceId });
        const res = createResponse(req, 503, { reason: refusal === 'device_full' ? 'Too Many Subscriptions For This Device' : 'Too Many Subscriptions' });
        return res.set('retry-after', 60);
      }
      const key = mailboxKey(sub.accountId, sub.mailboxExtensionId);
      let set = this.#byMailbox.get(key);
      if (!set) this.#byMailbox.set(key, (set = new Set()));
      set.add(sub);
    }
    // §4.2.1.1: the notifier sends a NOTIFY at once with the current state; with Expires 0 (a fetch) it is the last.
    if (seconds > 0) this.#schedule(sub, true);
    else this.#end(sub, 'timeout');
    return this.#ok(req, localTag, seconds, dialog);
  }

  #inDialog(req: SipRequest, seconds: number): SipResponse {
    const to = req.to()?.params.get('tag') ?? '';
    const from = req.from()?.params.get('tag') ?? '';
    const id = `${req.callId};${to};${from}`;
    const sub = this.#subscriptions.get(id);
    // §4.1.2.2 / RFC 3261 §12.2.2: no such subscription (expired, or never) is 481.
    if (!sub) return createResponse(req, 481);
    if (!sub.dialog.acceptRemoteSeq(req.cseq.seq)) return createResponse(req, 500, { reason: 'Out Of Order' });
    if (seconds === 0) {
      // §4.1.2.3: unsubscribing; §4.2.1.2: answered with a final NOTIFY.
      this.#forget(sub);
      this.#end(sub, 'timeout');
    } else {
      this.#subscriptions.refresh(id, seconds);
      sub.expiresAt = Date.now() + seconds * 1000;
      this.#schedule(sub, true);
    }
    return this.#ok(req, to, seconds, sub.dialog);
  }

  #ok(req: SipRequest, toTag: string, seconds: number, dialog: Dialog): SipResponse {
    return createResponse(req, 200, { toTag }).set('expires', seconds).set('contact', dialog.state.localContact);
  }

  /**
   * A message on VOICEMAIL_EVENTS_CHANNEL: the subscriptions to that mailbox of that
   * account are told the new counts, if they changed. The counts come from the
   * database, never from the message, which only names the mailbox.
   */
  onVoicemailEvent(message: string): void {
    const event = parseVoicemailEvent(message);
    if (!event) return;
    for (const sub of this.#byMailbox.get(mailboxKey(event.accountId, event.mailboxExtensionId)) ?? []) this.#schedule(sub, false);
  }

  /** New and old messages (heard, not deleted) of one mailbox, in one query scoped by the account. */
  async #count(accountId: string, mailboxExtensionId: string): Promise<MailboxCounts> {
    const row = await this.#deps.db
      .selectFrom('voicemail_messages')
      .select([
        sql<number>`count(*) filter (where status = 'new')::int`.as('new_messages'),
        sql<number>`count(*) filter (where status = 'heard')::int`.as('old_messages'),
        sql<number>`count(*) filter (where status = 'new' and urgent)::int`.as('urgent_new'),
        sql<number>`count(*) filter (where status = 'heard' and urgent)::int`.as('urgent_old'),
      ])
      .where('account_id', '=', accountId)
      .where('mailbox_extension_id', '=', mailboxExtensionId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return row ? { newMessages: row.new_messages, oldMessages: row.old_messages, urgentNew: row.urgent_new, urgentOld: row.urgent_old } : EMPTY;
  }

  /**
   * Queues a NOTIFY of the current counts, read when its turn comes (so NOTIFYs never go
   * out of order with the mailbox), sent only if they changed unless `force`. At most one
   * waits per subscription: the events of a busy mailbox coalesce into it.
   */
  #schedule(sub: MessageSummarySubscription, force: boolean): void {
    if (force) sub.force = true;
    if (sub.pending) return;
    sub.pending = true;
    this.#enqueue(sub, async () => {
      sub.pending = false;
      const forced = sub.force;
      sub.force = false;
      if (sub.ended) return;
      const counts = await this.#count(sub.accountId, sub.mailboxExtensionId);
      if (!forced && sub.lastSent && sameCounts(sub.lastSent, counts)) return;
      sub.lastSent = counts;
      const status = await this.#notify(sub, `active;expires=${Math.max(0, Math.round((sub.expiresAt - Date.now()) / 1000))}`, formatMessageSummary(counts));
      // §4.2.2: a NOTIFY answered 481 (or not at all) ends the subscription.
      if (status === null || status === 481) {
        this.#forget(sub);
        sub.ended = true;
      }
    });
  }

  /** Removes a subscription from the table (its timer with it) and from the index. */
  #forget(sub: MessageSummarySubscription): void {
    this.#subscriptions.remove(sub.dialog.id);
    this.#unindex(sub);
  }

  #unindex(sub: MessageSummarySubscription): void {
    const key = mailboxKey(sub.accountId, sub.mailboxExtensionId);
    const set = this.#byMailbox.get(key);
    set?.delete(sub);
    if (set?.size === 0) this.#byMailbox.delete(key);
  }

  #enqueue(sub: MessageSummarySubscription, turn: () => Promise<void>): void {
    sub.queue = sub.queue.then(turn).catch((err: unknown) => this.#deps.log.warn('message-summary NOTIFY not sent', { error: err }));
  }

  /** The final NOTIFY (§4.2.2, `terminated`), after any queued one; once. */
  #end(sub: MessageSummarySubscription, reason: string): void {
    if (sub.ended) return;
    sub.ended = true;
    this.#enqueue(sub, async () => {
      const counts = await this.#count(sub.accountId, sub.mailboxExtensionId);
      await this.#notify(sub, `terminated;reason=${reason}`, formatMessageSummary(counts));
    });
  }

  /** Sends one NOTIFY; resolves with its final status, or null on a timeout or transport error. */
  #notify(sub: MessageSummarySubscription, state: string, body: string): Promise<number | null> {
    const req = sub.dialog.createRequest('NOTIFY', { body: Buffer.from(body), contentType: MESSAGE_SUMMARY_TYPE });
    req.add('event', sub.event);
    req.add('subscription-state', state);
    return new Promise((resolve) => {
      this.#deps.transactions.sendRequest(req, sub.target, {
        onResponse: (res) => {
          if (res.status >= 200) resolve(res.status);
        },
        onTimeout: () => resolve(null),
        onTransportError: () => resolve(null),
      });
    });
  }

  /** The node stops: subscriptions are dropped without NOTIFY (the phones re-subscribe when their refresh fails). */
  stop(): void {
    this.#subscriptions.clear();
    this.#byMailbox.clear();
  }
}

const mailboxKey = (accountId: string, mailboxExtensionId: string) => `${accountId} ${mailboxExtensionId}`;

function parseExpires(v: string | undefined): number | null | 'invalid' {
  if (v === undefined) return null;
  return /^\s*[0-9]{1,10}\s*$/.test(v) ? Number(v) : 'invalid';
}
