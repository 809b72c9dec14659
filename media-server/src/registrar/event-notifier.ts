import type { SipDeviceCredential } from '@carillon/core';
import type { Logger } from '@carillon/config';
import { Dialog } from '../sip/dialog/dialog.ts';
import { createResponse, newTag, type SipRequest, type SipResponse } from '../sip/message/index.ts';
import type { NonInviteServerTransaction, TransactionLayer } from '../sip/transaction/index.ts';
import type { SipSource } from '../sip/transport/index.ts';
import { authenticateDevice, type DeviceAuthenticationDeps } from './device-authentication.ts';
import { SubscriptionTable, type SubscriptionLimits } from './subscription-table.ts';

/** One device's subscription to one resource of an event package (RFC 6665). */
export interface Subscription<R, M> {
  dialog: Dialog;
  /** Where NOTIFYs go: back where the SUBSCRIBE came from (the phone's NAT binding or connection). */
  target: SipSource;
  accountId: string;
  resource: R;
  /** The Event header as the subscriber sent it (with its id parameter, §8.2.1), repeated in each NOTIFY. */
  event: string;
  expiresAt: number;
  /** What the package remembers of this subscription between NOTIFYs (the last counts sent, a version). */
  memo: M;
  /** NOTIFYs go one at a time, in order (§4.2.2: a new one waits for the previous one's final response). */
  queue: Promise<void>;
  /** A NOTIFY is queued and has not read the state yet: more changes meanwhile need no other (the queue stays bounded). */
  pending: boolean;
  /** The queued NOTIFY goes even if the package finds nothing changed (a new subscription or a refresh is answered with one). */
  force: boolean;
  ended: boolean;
}

/**
 * What differs from one event package to another: which resource a device may
 * watch, and what a NOTIFY says of it. The rest of RFC 6665 is EventNotifier's.
 */
export interface EventPackage<R, M> {
  /** The package name of the Event header (§7.2.1). */
  readonly event: string;
  /** The NOTIFY body's type, checked against the SUBSCRIBE's Accept (§4.1.2: 406 otherwise). */
  readonly contentType: string;
  /** The resource the Request-URI names, if this device may watch it; otherwise the refusal (403, 404). */
  resolve(req: SipRequest, device: SipDeviceCredential, username: string): Promise<{ resource: R; memo: M } | SipResponse>;
  /** Subscriptions to the same resource share a key: a change of it reaches them all. */
  key(accountId: string, resource: R): string;
  /**
   * The body of the NOTIFY due now, read when its turn comes. With `forced` false
   * (the resource changed), null means nothing the subscriber sees changed: no NOTIFY.
   */
  body(sub: Subscription<R, M>, forced: boolean): Promise<string | null>;
}

export interface EventNotifierDeps extends DeviceAuthenticationDeps {
  transactions: TransactionLayer;
  localContact: (source: SipSource) => string;
  /** Bounds of a subscription's duration, in seconds (as for registrations), and of the table. */
  settings: { minExpires: number; maxExpires: number; limits: SubscriptionLimits };
  log: Logger;
}

/**
 * The notifier side of SIP-specific event notification (RFC 6665 §4.2) for one
 * event package: SUBSCRIBE in and out of a dialog, refresh and unsubscribe,
 * NOTIFYs in order and coalesced, the final NOTIFY on expiry. A device
 * authenticates with digest, as for REGISTER. Subscriptions live in this
 * node's memory, bounded per device and overall; a phone re-subscribes to
 * another node after a restart, as it must refresh anyway.
 */
export class EventNotifier<R, M> {
  readonly #subscriptions: SubscriptionTable<Subscription<R, M>>;
  /** The same subscriptions by resource key, for the changes. */
  readonly #byResource = new Map<string, Set<Subscription<R, M>>>();
  readonly #package: EventPackage<R, M>;
  readonly #deps: EventNotifierDeps;

  constructor(eventPackage: EventPackage<R, M>, deps: EventNotifierDeps) {
    this.#package = eventPackage;
    this.#deps = deps;
    // §4.2.2: when a subscription expires, the notifier sends a final NOTIFY (terminated;reason=timeout).
    this.#subscriptions = new SubscriptionTable(deps.settings.limits, (_id, sub) => {
      this.#unindex(sub);
      this.#end(sub, 'timeout');
    });
  }

  get event(): string {
    return this.#package.event;
  }

  get subscriptionCount(): number {
    return this.#subscriptions.size;
  }

  /**
   * A SUBSCRIBE of this package, in or out of a dialog, answered on `tx`. The 200 goes
   * first, then the NOTIFY it promises (§4.2.1.1 allows either order; phones and SIPp expect this one).
   */
  async handleSubscribe(req: SipRequest, tx: NonInviteServerTransaction, source: SipSource): Promise<void> {
    const answer = await this.#answer(req, source);
    if ('status' in answer) {
      tx.respond(answer);
      return;
    }
    tx.respond(answer.response);
    answer.afterwards();
  }

  /** The resource changed: its subscribers are told, if what they see changed. */
  changed(accountId: string, resource: R): void {
    for (const sub of this.#byResource.get(this.#package.key(accountId, resource)) ?? []) this.#schedule(sub, false);
  }

  /** The node stops: subscriptions are dropped without NOTIFY (the phones re-subscribe when their refresh fails). */
  stop(): void {
    this.#subscriptions.clear();
    this.#byResource.clear();
  }

  async #answer(req: SipRequest, source: SipSource): Promise<SipResponse | { response: SipResponse; afterwards: () => void }> {
    const raw = req.get('expires');
    const expires = raw === undefined ? null : /^\s*[0-9]{1,10}\s*$/.test(raw) ? Number(raw) : 'invalid';
    if (expires === 'invalid') return createResponse(req, 400, { reason: 'Invalid Expires' });
    // §4.2.1.1: too short a subscription gets 423 with Min-Expires.
    if (expires !== null && expires > 0 && expires < this.#deps.settings.minExpires) return createResponse(req, 423).set('min-expires', this.#deps.settings.minExpires);
    const type = this.#package.contentType;
    const accept = req.getAll('accept').flatMap((a) => a.split(',')).map((a) => a.split(';')[0]!.trim().toLowerCase()).filter(Boolean);
    if (accept.length && !accept.some((a) => a === type || a === 'application/*' || a === '*/*')) return createResponse(req, 406).add('accept', type);
    const seconds = expires === null ? this.#deps.settings.maxExpires : Math.min(expires, this.#deps.settings.maxExpires);
    return req.to()?.params.get('tag') ? this.#inDialog(req, seconds) : this.#newSubscription(req, source, seconds);
  }

  async #newSubscription(req: SipRequest, source: SipSource, seconds: number): Promise<SipResponse | { response: SipResponse; afterwards: () => void }> {
    const auth = await authenticateDevice(req, source.remoteAddress, this.#deps);
    if ('response' in auth) return auth.response;
    const { device, username } = auth;
    const watched = await this.#package.resolve(req, device, username);
    if ('status' in watched) return watched;
    const localTag = newTag();
    const dialog = Dialog.fromIncomingInvite(req, localTag, this.#deps.localContact(source));
    if (!dialog) return createResponse(req, 400, { reason: 'Missing Contact Or From Tag' });
    const sub: Subscription<R, M> = {
      dialog,
      target: source,
      accountId: device.accountId,
      resource: watched.resource,
      event: req.get('event') ?? this.#package.event,
      expiresAt: Date.now() + seconds * 1000,
      memo: watched.memo,
      queue: Promise.resolve(),
      pending: false,
      force: false,
      ended: false,
    };
    if (seconds > 0) {
      const refusal = this.#subscriptions.add(dialog.id, device.deviceId, sub, seconds);
      if (refusal) {
        this.#deps.log.warn('subscription refused: table full', { event: this.#package.event, refusal, deviceId: device.deviceId });
        return createResponse(req, 503, { reason: refusal === 'device_full' ? 'Too Many Subscriptions For This Device' : 'Too Many Subscriptions' }).set('retry-after', 60);
      }
      const key = this.#package.key(sub.accountId, sub.resource);
      let set = this.#byResource.get(key);
      if (!set) this.#byResource.set(key, (set = new Set()));
      set.add(sub);
    }
    // §4.2.1.1: a NOTIFY with the current state at once; with Expires 0 (a fetch) it is the last.
    return { response: this.#ok(req, localTag, seconds, dialog), afterwards: () => (seconds > 0 ? this.#schedule(sub, true) : this.#end(sub, 'timeout')) };
  }

  #inDialog(req: SipRequest, seconds: number): SipResponse | { response: SipResponse; afterwards: () => void } {
    const to = req.to()?.params.get('tag') ?? '';
    const id = `${req.callId};${to};${req.from()?.params.get('tag') ?? ''}`;
    const sub = this.#subscriptions.get(id);
    // §4.1.2.2 / RFC 3261 §12.2.2: no such subscription (expired, or never) is 481.
    if (!sub) return createResponse(req, 481);
    if (!sub.dialog.acceptRemoteSeq(req.cseq.seq)) return createResponse(req, 500, { reason: 'Out Of Order' });
    if (seconds === 0) {
      // §4.1.2.3: unsubscribing; §4.2.1.2: answered with a final NOTIFY.
      this.#forget(sub);
      return { response: this.#ok(req, to, seconds, sub.dialog), afterwards: () => this.#end(sub, 'timeout') };
    }
    this.#subscriptions.refresh(id, seconds);
    sub.expiresAt = Date.now() + seconds * 1000;
    return { response: this.#ok(req, to, seconds, sub.dialog), afterwards: () => this.#schedule(sub, true) };
  }

  #ok(req: SipRequest, toTag: string, seconds: number, dialog: Dialog): SipResponse {
    return createResponse(req, 200, { toTag }).set('expires', seconds).set('contact', dialog.state.localContact);
  }

  /**
   * Queues a NOTIFY of the resource as it is when its turn comes (so NOTIFYs never go
   * out of order with it), sent only if the package sees a change unless `force`. At
   * most one waits per subscription: the changes of a busy resource coalesce into it.
   */
  #schedule(sub: Subscription<R, M>, force: boolean): void {
    if (force) sub.force = true;
    if (sub.pending) return;
    sub.pending = true;
    this.#enqueue(sub, async () => {
      sub.pending = false;
      const forced = sub.force;
      sub.force = false;
      if (sub.ended) return;
      const body = await this.#package.body(sub, forced);
      if (body === null) return;
      const status = await this.#notify(sub, `active;expires=${Math.max(0, Math.round((sub.expiresAt - Date.now()) / 1000))}`, body);
      // §4.2.2: a NOTIFY answered 481 (or not at all) ends the subscription.
      if (status === null || status === 481) {
        this.#forget(sub);
        sub.ended = true;
      }
    });
  }

  /** Removes a subscription from the table (its timer with it) and from the index. */
  #forget(sub: Subscription<R, M>): void {
    this.#subscriptions.remove(sub.dialog.id);
    this.#unindex(sub);
  }

  #unindex(sub: Subscription<R, M>): void {
    const key = this.#package.key(sub.accountId, sub.resource);
    const set = this.#byResource.get(key);
    set?.delete(sub);
    if (set?.size === 0) this.#byResource.delete(key);
  }

  #enqueue(sub: Subscription<R, M>, turn: () => Promise<void>): void {
    sub.queue = sub.queue.then(turn).catch((err: unknown) => this.#deps.log.warn('NOTIFY not sent', { event: this.#package.event, error: err }));
  }

  /** The final NOTIFY (§4.2.2, `terminated`), after any queued one; once. */
  #end(sub: Subscription<R, M>, reason: string): void {
    if (sub.ended) return;
    sub.ended = true;
    this.#enqueue(sub, async () => {
      const body = await this.#package.body(sub, true);
      await this.#notify(sub, `terminated;reason=${reason}`, body ?? '');
    });
  }

  /** Sends one NOTIFY; resolves with its final status, or null on a timeout or transport error. */
  #notify(sub: Subscription<R, M>, state: string, body: string): Promise<number | null> {
    const req = sub.dialog.createRequest('NOTIFY', { body: Buffer.from(body), contentType: this.#package.contentType });
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
}
