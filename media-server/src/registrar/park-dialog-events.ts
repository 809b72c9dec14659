import type { Logger } from '@carillon/config';
import type { Db } from '@carillon/db';
import { parkLocationMembers } from '@carillon/core';
import { mayUseParkLocation } from '@carillon/domain';
import { Dialog } from '../sip/dialog/dialog.ts';
import { createResponse, newTag, type SipRequest, type SipResponse } from '../sip/message/index.ts';
import type { NonInviteServerTransaction, TransactionLayer } from '../sip/transaction/index.ts';
import type { SipSource } from '../sip/transport/index.ts';
import { authenticateDevice, type DeviceAuthenticationDeps } from './device-authentication.ts';
import { SubscriptionTable, type SubscriptionLimits } from './subscription-table.ts';

export const DIALOG_EVENT = 'dialog';
export const DIALOG_INFO_TYPE = 'application/dialog-info+xml';

/** Whether a park location holds a call now, and news when that changes (calls/park-lot.ts, wired by the edge). */
export interface ParkOccupancy {
  isOccupied(accountId: string, location: string): boolean;
}

/** What this node's calls do to a user's extension (presence/call-presence.ts). */
export type ExtensionActivity = (accountId: string, extensionId: string) => { ringing: number; onCall: number };

/** What a busy-lamp key watches: a park location (by number), or a user's extension. */
type WatchedResource = { kind: 'park'; location: string } | { kind: 'user'; extensionId: string };

export type ParkDialogEventsDeps = DeviceAuthenticationDeps & {
  db: Db;
  transactions: TransactionLayer;
  localContact: (source: SipSource) => string;
  settings: { minExpires: number; maxExpires: number; limits: SubscriptionLimits };
  occupancy: ParkOccupancy;
  /** Users' lamps: with it, a phone may watch any user extension of its account. */
  activity?: ExtensionActivity;
  domain: string;
  log: Logger;
};

interface ParkKeySubscription {
  dialog: Dialog;
  target: SipSource;
  accountId: string;
  resource: WatchedResource;
  /** The Event header as sent (with its id parameter), repeated in each NOTIFY (RFC 6665 §8.2.1). */
  event: string;
  entity: string;
  expiresAt: number;
  /** RFC 4235 §4.1: the version counts this subscription's NOTIFYs, from 0. */
  version: number;
  queue: Promise<void>;
  ended: boolean;
}

/**
 * Busy lamps (PK-04, issue 15 point 4): the notifier of the dialog event
 * package (RFC 4235 over RFC 6665) for a park location's number, so a member's
 * desk phone lights the key while a call is parked there, and for a user's
 * extension (any phone of the account: ringing shows `early`, a call up
 * `confirmed`). Each NOTIFY carries the full state: one dialog, or none when
 * the location or the user is free. Only members of a location may watch it;
 * subscriptions live in this node's memory, bounded, and learn of this node's
 * parked calls and calls (another node's are not shown yet).
 */
export class ParkDialogEvents {
  readonly #subscriptions: SubscriptionTable<ParkKeySubscription>;
  readonly #byLocation = new Map<string, Set<ParkKeySubscription>>();
  readonly #deps: ParkDialogEventsDeps;

  constructor(deps: ParkDialogEventsDeps) {
    this.#deps = deps;
    this.#subscriptions = new SubscriptionTable(deps.settings.limits, (_id, sub) => {
      this.#unindex(sub);
      this.#end(sub, 'timeout');
    });
  }

  get subscriptionCount(): number {
    return this.#subscriptions.size;
  }

  async handleSubscribe(req: SipRequest, tx: NonInviteServerTransaction, source: SipSource): Promise<void> {
    const answer = await this.#answer(req, source);
    const [response, then] = Array.isArray(answer) ? answer : [answer, null];
    // The 200 first, then the NOTIFY it promises (RFC 6665 §4.2.1.1 allows either order; phones and SIPp expect this one).
    tx.respond(response);
    then?.();
  }

  async #answer(req: SipRequest, source: SipSource): Promise<SipResponse | [SipResponse, () => void]> {
    const event = req.get('event') ?? '';
    const raw = req.get('expires');
    const expires = raw === undefined ? null : /^\s*[0-9]{1,10}\s*$/.test(raw) ? Number(raw) : 'invalid';
    if (expires === 'invalid') return createResponse(req, 400, { reason: 'Invalid Expires' });
    if (expires !== null && expires > 0 && expires < this.#deps.settings.minExpires) return createResponse(req, 423).set('min-expires', this.#deps.settings.minExpires);
    const accept = req.getAll('accept').flatMap((a) => a.split(',')).map((a) => a.split(';')[0]!.trim().toLowerCase()).filter(Boolean);
    if (accept.length && !accept.some((a) => a === DIALOG_INFO_TYPE || a === 'application/*' || a === '*/*')) return createResponse(req, 406).add('accept', DIALOG_INFO_TYPE);
    const seconds = expires === null ? this.#deps.settings.maxExpires : Math.min(expires, this.#deps.settings.maxExpires);
    if (req.to()?.params.get('tag')) return this.#inDialog(req, seconds);
    return this.#newSubscription(req, source, event, seconds);
  }

  async #newSubscription(req: SipRequest, source: SipSource, event: string, seconds: number): Promise<SipResponse | [SipResponse, () => void]> {
    const auth = await authenticateDevice(req, source.remoteAddress, this.#deps);
    if ('response' in auth) return auth.response;
    const { device } = auth;
    const location = decodeURIComponent(/^sips?:([^@;?]+)@/i.exec(req.uri)?.[1] ?? '');
    const ext = /^[0-9]{1,9}$/.test(location)
      ? await this.#deps.db.selectFrom('extensions').select(['id', 'type']).where('account_id', '=', device.accountId).where('number', '=', location).where('type', 'in', ['park_location', 'user', 'limited']).executeTakeFirst()
      : undefined;
    // RFC 6665 §4.1.2: a resource we do not serve is 404 (users' lamps only where presence is wired).
    if (!ext || (ext.type !== 'park_location' && !this.#deps.activity)) return createResponse(req, 404, { reason: 'Not A Park Location Or User' });
    if (ext.type === 'park_location' && !mayUseParkLocation(await parkLocationMembers(this.#deps.db, device.accountId, ext.id), device.extensionId)) return createResponse(req, 403, { reason: 'Not A Park Location Member' });
    const resource: WatchedResource = ext.type === 'park_location' ? { kind: 'park', location } : { kind: 'user', extensionId: ext.id };
    const localTag = newTag();
    const dialog = Dialog.fromIncomingInvite(req, localTag, this.#deps.localContact(source));
    if (!dialog) return createResponse(req, 400, { reason: 'Missing Contact Or From Tag' });
    const sub: ParkKeySubscription = { dialog, target: source, accountId: device.accountId, resource, event, entity: `sip:${location}@${this.#deps.domain}`, expiresAt: Date.now() + seconds * 1000, version: 0, queue: Promise.resolve(), ended: false };
    if (seconds > 0) {
      const refusal = this.#subscriptions.add(dialog.id, device.deviceId, sub, seconds);
      if (refusal) return createResponse(req, 503, { reason: 'Too Many Subscriptions' }).set('retry-after', 60);
      const key = resourceKey(sub.accountId, resource);
      let set = this.#byLocation.get(key);
      if (!set) this.#byLocation.set(key, (set = new Set()));
      set.add(sub);
    }
    // RFC 6665 §4.2.1.1: a NOTIFY with the current state at once; with Expires 0 (a fetch) it is the last.
    const ok = createResponse(req, 200, { toTag: localTag }).set('expires', seconds).set('contact', dialog.state.localContact);
    return [ok, () => (seconds > 0 ? this.#send(sub) : this.#end(sub, 'timeout'))];
  }

  #inDialog(req: SipRequest, seconds: number): SipResponse | [SipResponse, () => void] {
    const to = req.to()?.params.get('tag') ?? '';
    const id = `${req.callId};${to};${req.from()?.params.get('tag') ?? ''}`;
    const sub = this.#subscriptions.get(id);
    if (!sub) return createResponse(req, 481);
    if (!sub.dialog.acceptRemoteSeq(req.cseq.seq)) return createResponse(req, 500, { reason: 'Out Of Order' });
    if (seconds === 0) {
      this.#subscriptions.remove(sub.dialog.id);
      this.#unindex(sub);
    } else {
      this.#subscriptions.refresh(id, seconds);
      sub.expiresAt = Date.now() + seconds * 1000;
    }
    const ok = createResponse(req, 200, { toTag: to }).set('expires', seconds).set('contact', sub.dialog.state.localContact);
    return [ok, () => (seconds === 0 ? this.#end(sub, 'timeout') : this.#send(sub))];
  }

  /** A location was taken or freed on this node: its subscribers are told. */
  locationChanged(accountId: string, location: string): void {
    for (const sub of this.#byLocation.get(resourceKey(accountId, { kind: 'park', location })) ?? []) this.#send(sub);
  }

  /** A user's extension started or stopped ringing or talking on this node: its subscribers are told. */
  extensionChanged(accountId: string, extensionId: string): void {
    for (const sub of this.#byLocation.get(resourceKey(accountId, { kind: 'user', extensionId })) ?? []) this.#send(sub);
  }

  /** Queues a NOTIFY of the location's state as it is when its turn comes (NOTIFYs in order, RFC 6665 §4.2.2). */
  #send(sub: ParkKeySubscription): void {
    this.#enqueue(sub, async () => {
      if (sub.ended) return;
      const status = await this.#notify(sub, `active;expires=${Math.max(0, Math.round((sub.expiresAt - Date.now()) / 1000))}`);
      if (status === null || status === 481) {
        this.#subscriptions.remove(sub.dialog.id);
        this.#unindex(sub);
        sub.ended = true;
      }
    });
  }

  #end(sub: ParkKeySubscription, reason: string): void {
    if (sub.ended) return;
    sub.ended = true;
    this.#enqueue(sub, async () => void (await this.#notify(sub, `terminated;reason=${reason}`)));
  }

  #unindex(sub: ParkKeySubscription): void {
    const key = resourceKey(sub.accountId, sub.resource);
    const set = this.#byLocation.get(key);
    set?.delete(sub);
    if (set?.size === 0) this.#byLocation.delete(key);
  }

  #enqueue(sub: ParkKeySubscription, turn: () => Promise<void>): void {
    sub.queue = sub.queue.then(turn).catch((err: unknown) => this.#deps.log.warn('dialog-event NOTIFY not sent', { error: err }));
  }

  #notify(sub: ParkKeySubscription, state: string): Promise<number | null> {
    const body = dialogInfo(sub.entity, sub.version++, this.#dialogOf(sub));
    const req = sub.dialog.createRequest('NOTIFY', { body: Buffer.from(body), contentType: DIALOG_INFO_TYPE });
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

  /** The one dialog a lamp shows, if any: a parked call (confirmed), or a user's call, talking (confirmed) before ringing (early). */
  #dialogOf(sub: ParkKeySubscription): { id: string; state: 'early' | 'confirmed' } | null {
    const r = sub.resource;
    if (r.kind === 'park') return this.#deps.occupancy.isOccupied(sub.accountId, r.location) ? { id: `park-${r.location}`, state: 'confirmed' } : null;
    const a = this.#deps.activity?.(sub.accountId, r.extensionId);
    if (a && a.onCall > 0) return { id: `ext-${r.extensionId}`, state: 'confirmed' };
    if (a && a.ringing > 0) return { id: `ext-${r.extensionId}`, state: 'early' };
    return null;
  }

  stop(): void {
    this.#subscriptions.clear();
    this.#byLocation.clear();
  }
}

const resourceKey = (accountId: string, r: WatchedResource) => (r.kind === 'park' ? `${accountId} park ${r.location}` : `${accountId} user ${r.extensionId}`);

/**
 * A full dialog-info document (RFC 4235 §4): one `confirmed` dialog while a
 * call is parked, none when the location is free (§4.1: state "full" lists
 * every dialog of the entity).
 */
export function dialogInfo(entity: string, version: number, dialog: { id: string; state: 'early' | 'confirmed' } | null): string {
  const head = `<?xml version="1.0"?>\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${version}" state="full" entity="${entity}">\n`;
  const body = dialog ? `  <dialog id="${dialog.id}" direction="recipient">\n    <state>${dialog.state}</state>\n  </dialog>\n` : '';
  return `${head}${body}</dialog-info>\n`;
}
