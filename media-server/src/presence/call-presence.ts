import type { Redis } from 'ioredis';
import type { Logger } from '@carillon/config';
import { PRESENCE_CHANNEL, presenceField, presenceKey, type CallActivity } from '@carillon/contracts/presence';

export type CallPresence = 'ringing' | 'on_call';

/**
 * What the calls of this node do to each extension's presence: how many of
 * its calls ring, how many are up, and how many of those its user holds.
 * Calls report per extension; the
 * totals go to Redis in one write per burst of changes, with a message on
 * the presence channel for each account touched.
 */
export class CallPresenceTracker {
  private readonly redis: Redis;
  private readonly key: string;
  private readonly log: Logger;
  private readonly byCall = new Map<object, Map<string, CallPresence>>();
  /** The extensions (presence fields) that hold each call they are on: counted only while they are on it. */
  private readonly heldBy = new Map<object, Set<string>>();
  private readonly totals = new Map<string, Required<CallActivity>>();
  private readonly dirty = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(accountId: string, extensionId: string) => void>();

  constructor(redis: Redis, nodeId: string, log: Logger) {
    this.redis = redis;
    this.key = presenceKey(nodeId);
    this.log = log;
  }

  /** Sets (or with null, clears) what `call` does to an extension. */
  set(call: object, accountId: string, extensionId: string, state: CallPresence | null): void {
    const field = presenceField(accountId, extensionId);
    let entries = this.byCall.get(call);
    const before = entries?.get(field) ?? null;
    if (before === state) return;
    // Off the call, or ringing again: whatever hold of it counted goes.
    if (state !== 'on_call') this.unhold(call, field);
    if (before) this.count(field, before, -1);
    if (state) {
      if (!entries) this.byCall.set(call, (entries = new Map()));
      entries.set(field, state);
      this.count(field, state, 1);
    } else {
      entries?.delete(field);
      if (entries?.size === 0) this.byCall.delete(call);
    }
    this.schedule(field);
  }

  /**
   * The extension's user put `call` on hold (re-INVITE sendonly or inactive) or took it off; counted
   * while the extension is on that call (`set(…, 'on_call')` first). The dialog-event NOTIFY says it
   * (registrar/park-dialog-events.ts).
   */
  hold(call: object, accountId: string, extensionId: string, held: boolean): void {
    const field = presenceField(accountId, extensionId);
    if (!held) {
      if (this.unhold(call, field)) this.schedule(field);
      return;
    }
    if (this.byCall.get(call)?.get(field) !== 'on_call') return;
    let fields = this.heldBy.get(call);
    if (fields?.has(field)) return;
    if (!fields) this.heldBy.set(call, (fields = new Set()));
    fields.add(field);
    this.countHeld(field, 1);
    this.schedule(field);
  }

  /** Whether the extension held the call (and no longer does). */
  private unhold(call: object, field: string): boolean {
    const fields = this.heldBy.get(call);
    if (!fields?.delete(field)) return false;
    if (fields.size === 0) this.heldBy.delete(call);
    this.countHeld(field, -1);
    return true;
  }

  /** The call ended: nothing of it counts any more. */
  clear(call: object): void {
    for (const field of this.heldBy.get(call) ?? []) this.unhold(call, field);
    const entries = this.byCall.get(call);
    if (!entries) return;
    this.byCall.delete(call);
    for (const [field, state] of entries) {
      this.count(field, state, -1);
      this.schedule(field);
    }
  }

  async reset(): Promise<void> {
    await this.redis.del(this.key);
  }

  /** Kept alive with the node's heartbeat; gone with the node. */
  async refresh(ttlMs: number): Promise<void> {
    await this.redis.pexpire(this.key, ttlMs);
  }

  activity(accountId: string, extensionId: string): CallActivity & { held: number } {
    const t = this.totals.get(presenceField(accountId, extensionId));
    return { ringing: t?.ringing ?? 0, onCall: t?.onCall ?? 0, held: t?.held ?? 0 };
  }

  private count(field: string, state: CallPresence, delta: number): void {
    const t = this.totals.get(field) ?? { ringing: 0, onCall: 0, held: 0 };
    if (state === 'ringing') t.ringing += delta;
    else t.onCall += delta;
    this.keep(field, t);
  }

  private countHeld(field: string, delta: number): void {
    const t = this.totals.get(field) ?? { ringing: 0, onCall: 0, held: 0 };
    t.held += delta;
    this.keep(field, t);
  }

  private keep(field: string, t: Required<CallActivity>): void {
    if (t.ringing <= 0 && t.onCall <= 0 && t.held <= 0) this.totals.delete(field);
    else this.totals.set(field, t);
  }

  /** Told at once each time this node's calls change an extension's activity (busy lamps, registrar/park-dialog-events.ts). */
  watch(listener: (accountId: string, extensionId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private schedule(field: string): void {
    if (this.listeners.size) {
      // presenceField is `<account>:<extension>`, two UUIDs.
      const [accountId, extensionId] = field.split(':') as [string, string];
      for (const listener of this.listeners) {
        try {
          listener(accountId, extensionId);
        } catch (err) {
          this.log.warn('presence watcher failed', { error: err });
        }
      }
    }
    this.dirty.add(field);
    this.flushTimer ??= setTimeout(() => void this.flush(), 20);
  }

  async flush(): Promise<void> {
    this.flushTimer = null;
    if (this.dirty.size === 0) return;
    const fields = [...this.dirty];
    this.dirty.clear();
    const multi = this.redis.multi();
    const accounts = new Set<string>();
    for (const field of fields) {
      const t = this.totals.get(field);
      // The field starts with the account id (presenceField).
      accounts.add(field.slice(0, field.indexOf(':')));
      if (t) multi.hset(this.key, field, JSON.stringify(t.held > 0 ? { ringing: t.ringing, onCall: t.onCall, held: t.held } : { ringing: t.ringing, onCall: t.onCall }));
      else multi.hdel(this.key, field);
    }
    for (const accountId of accounts) multi.publish(PRESENCE_CHANNEL, accountId);
    await multi.exec().catch((err: unknown) => this.log.warn('presence not written', { error: err }));
  }
}
