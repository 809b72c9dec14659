import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import type { Logger } from '@carillon/config';
import type { Database } from '@carillon/db';
import { parkLocationMembers, pickupAllowed } from '@carillon/core';
import { mayUseParkLocation, DEFAULT_PARK_RECALL_SECONDS, type ParkRefusal } from '@carillon/domain';
import { PARK_SLOT_TTL_MS, parkSlotKey, type ParkedCallRef } from '@carillon/contracts/park';

/** What the park lot needs of a parked call: to be rung back to its parker when nobody retrieves it. */
export interface ParkableCall {
  readonly aCallId: string;
  recallParked(parkerNumber: string | null): Promise<void>;
}

export interface ParkRequest {
  accountId: string;
  /** The location's extension number (801), which names its slot. */
  location: string;
  parkExtensionId: string;
  /** Who parks the call: a member, rung back at the recall. */
  parkerExtensionId: string | null;
}

interface ParkedEntry<C> {
  call: C;
  key: string;
  accountId: string;
  location: string;
  recall: NodeJS.Timeout | null;
}

/** Calls parked on one node at once: 100 locations per account, bounded per node like every table a peer can grow. */
const MAX_PARKED_PER_NODE = 10_000;

/**
 * Park locations' live state (issue 15 point 4; PK-01…PK-03): which call is
 * parked on which location. One call per location across the cluster: a
 * location is taken by a `SET NX` on its Redis key (contracts/park.ts),
 * so a second park anywhere is refused; this node keeps its own parked
 * calls, their recall timers, and releases the key when a call leaves
 * (retrieved, recalled and answered, or hung up). Only members of a location
 * park to it or retrieve from it.
 *
 * Retrieval is by the node that holds the parked call: a location taken on
 * another node answers "elsewhere" (a cross-node retrieval needs the call
 * registry, issue 19).
 */
export class ParkLot<C extends ParkableCall = ParkableCall> {
  private readonly db: Kysely<Database>;
  private readonly redis: Redis;
  private readonly nodeId: string;
  private readonly log: Logger;
  private readonly recallMs: number;
  private readonly byKey = new Map<string, ParkedEntry<C>>();
  private readonly byCall = new Map<C, ParkedEntry<C>>();
  private readonly listeners = new Set<(accountId: string, location: string) => void>();

  constructor(deps: { db: Kysely<Database>; redis: Redis; nodeId: string; log: Logger; recallSeconds?: number }) {
    this.db = deps.db;
    this.redis = deps.redis;
    this.nodeId = deps.nodeId;
    this.log = deps.log;
    const seconds = deps.recallSeconds ?? DEFAULT_PARK_RECALL_SECONDS;
    if (!(seconds > 0 && seconds <= 3600)) throw new RangeError('park recall: (0, 3600] seconds');
    this.recallMs = seconds * 1000;
  }

  /** Calls parked on this node now (tests and monitoring: back to zero once they left). */
  get size(): number {
    return this.byCall.size;
  }

  /**
   * Parks `call` on a location for a member; null when parked, else why not.
   * The recall timer starts now: when it fires, the call rings its parker.
   */
  async park(call: C, req: ParkRequest): Promise<ParkRefusal | null> {
    const location = await this.db
      .selectFrom('extensions')
      .select(['status'])
      .where('account_id', '=', req.accountId)
      .where('id', '=', req.parkExtensionId)
      .where('type', '=', 'park_location')
      .executeTakeFirst();
    if (!location || location.status === 'disabled') return 'disabled';
    if (!mayUseParkLocation(await parkLocationMembers(this.db, req.accountId, req.parkExtensionId), req.parkerExtensionId)) return 'not-a-member';
    const key = parkSlotKey(req.accountId, req.location);
    if (this.byKey.has(key) || this.byCall.has(call) || this.byCall.size >= MAX_PARKED_PER_NODE) return 'occupied';
    const parker = req.parkerExtensionId
      ? await this.db.selectFrom('extensions').select('number').where('account_id', '=', req.accountId).where('id', '=', req.parkerExtensionId).executeTakeFirst()
      : undefined;
    const ref: ParkedCallRef = { nodeId: this.nodeId, callId: call.aCallId, parkedBy: req.parkerExtensionId };
    // The cluster-wide test of "one call per location": whoever sets the key first parks.
    const taken = await this.redis.set(key, JSON.stringify(ref), 'PX', PARK_SLOT_TTL_MS, 'NX');
    if (taken !== 'OK') return 'occupied';
    if (this.byKey.has(key) || this.byCall.has(call)) {
      // Taken here meanwhile (the key had expired under a call still parked): ours goes, theirs stays.
      await this.redis.eval(RELEASE_IF_OURS, 1, key, call.aCallId).catch(() => undefined);
      return 'occupied';
    }
    const parkerNumber = parker?.number ?? null;
    const entry: ParkedEntry<C> = { call, key, accountId: req.accountId, location: req.location, recall: null };
    entry.recall = setTimeout(() => {
      entry.recall = null;
      void call.recallParked(parkerNumber).catch((err: unknown) => this.log.error('park recall failed', { error: err }));
    }, this.recallMs);
    entry.recall.unref();
    this.byKey.set(key, entry);
    this.byCall.set(call, entry);
    this.changed(entry);
    return null;
  }

  /** Whether a call is parked on this location on this node (the busy lamp of its key, registrar/park-dialog-events.ts). */
  isOccupied(accountId: string, location: string): boolean {
    return this.byKey.has(parkSlotKey(accountId, location));
  }

  /** Told each time a location of this node is taken or freed; returns the way to stop listening. */
  watch(listener: (accountId: string, location: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(entry: ParkedEntry<C>): void {
    for (const listener of this.listeners) {
      try {
        listener(entry.accountId, entry.location);
      } catch (err) {
        this.log.warn('park watcher failed', { error: err });
      }
    }
  }

  /** The call parked on a location, for a member who dials it; or why there is none to take. */
  async retrieve(accountId: string, location: string, parkExtensionId: string, retrieverExtensionId: string): Promise<{ call: C } | { refusal: ParkRefusal | 'empty' | 'elsewhere' }> {
    if (!mayUseParkLocation(await parkLocationMembers(this.db, accountId, parkExtensionId), retrieverExtensionId)) return { refusal: 'not-a-member' };
    const key = parkSlotKey(accountId, location);
    const entry = this.byKey.get(key);
    if (entry) return { call: entry.call };
    return { refusal: (await this.redis.exists(key)) ? 'elsewhere' : 'empty' };
  }

  /** PU-01: whether a member may pick up a call ringing on `target` (a pickup group holds both). */
  mayPickUp(accountId: string, diallerExtensionId: string, targetExtensionId: string): Promise<boolean> {
    return pickupAllowed(this.db, accountId, diallerExtensionId, targetExtensionId);
  }

  /** The recall is ringing the parker: no second recall; the location stays taken until the call leaves it. */
  recalling(call: C): void {
    const entry = this.byCall.get(call);
    if (entry?.recall) clearTimeout(entry.recall);
    if (entry) entry.recall = null;
  }

  /** The call left its location (retrieved, answered at the recall, or ended); idempotent. */
  release(call: C): void {
    const entry = this.byCall.get(call);
    if (!entry) return;
    if (entry.recall) clearTimeout(entry.recall);
    this.byCall.delete(call);
    if (this.byKey.get(entry.key) === entry) this.byKey.delete(entry.key);
    this.changed(entry);
    // Deleted only if it still names this call: a key that expired and was taken again is another call's.
    this.redis
      .eval(RELEASE_IF_OURS, 1, entry.key, call.aCallId)
      .catch((err: unknown) => this.log.warn('park location not released in Redis; it expires on its own', { error: err }));
  }
}

const RELEASE_IF_OURS = `
local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).callId == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
