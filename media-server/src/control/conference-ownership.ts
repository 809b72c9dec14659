import type { Redis } from 'ioredis';
import type { Logger } from '@carillon/config';
import type { CallOwner } from '@carillon/contracts/call-control';
import { CONFERENCE_EVENTS_CHANNEL, CONFERENCE_OWNER_TTL_MS, conferenceOwnerKey, type ConferenceChange, type ConferenceEvent } from '@carillon/contracts/conference-control';

/** A conference as the control channel names it. */
interface NamedConference {
  readonly accountId: string;
  readonly hostExtensionId: string;
}

/**
 * What this node tells the cluster of its conferences (contracts/conference-control.ts): it owns
 * the conference while it runs (`conferenceOwnerKey`, so that the host's console reaches this node),
 * and each change goes out on the conference events channel for the app to relay to the console.
 * Fire and forget, as call ownership: a conference never waits for Redis.
 */
export class RedisConferenceEvents {
  private readonly redis: Redis;
  private readonly nodeId: string;
  private readonly log: Logger;

  constructor(redis: Redis, nodeId: string, log: Logger) {
    this.redis = redis;
    this.nodeId = nodeId;
    this.log = log;
  }

  opened(c: NamedConference): void {
    const owner: CallOwner = { nodeId: this.nodeId, accountId: c.accountId };
    this.redis.set(conferenceOwnerKey(c.accountId, c.hostExtensionId), JSON.stringify(owner), 'PX', CONFERENCE_OWNER_TTL_MS).catch((err: unknown) => this.log.warn('conference owner not recorded', { error: err }));
  }

  changed(c: NamedConference, change: ConferenceChange): void {
    const event = { ...change, accountId: c.accountId, hostExtensionId: c.hostExtensionId } as ConferenceEvent;
    this.redis.publish(CONFERENCE_EVENTS_CHANNEL, JSON.stringify(event)).catch((err: unknown) => this.log.warn('conference event not published', { error: err }));
  }

  closed(c: NamedConference): void {
    this.redis.del(conferenceOwnerKey(c.accountId, c.hostExtensionId)).catch((err: unknown) => this.log.warn('conference owner not removed; it expires on its own', { error: err }));
  }
}
