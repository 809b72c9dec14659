import { CONFERENCE_EVENTS_CHANNEL, CONFERENCE_OWNER_TTL_MS, conferenceOwnerKey, type ConferenceChange, type ConferenceEvent } from '@carillon/contracts/conference-control';
import { NodeRecords } from './call-ownership.ts';

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
export class RedisConferenceEvents extends NodeRecords {
  opened(c: NamedConference): void {
    this.quietly(this.redis.set(conferenceOwnerKey(c.accountId, c.hostExtensionId), this.owner(c.accountId), 'PX', CONFERENCE_OWNER_TTL_MS), 'conference owner not recorded');
  }

  changed(c: NamedConference, change: ConferenceChange): void {
    const event = { ...change, accountId: c.accountId, hostExtensionId: c.hostExtensionId } as ConferenceEvent;
    this.quietly(this.redis.publish(CONFERENCE_EVENTS_CHANNEL, JSON.stringify(event)), 'conference event not published');
  }

  closed(c: NamedConference): void {
    this.quietly(this.releaseOwn(conferenceOwnerKey(c.accountId, c.hostExtensionId), c.accountId), 'conference owner not removed; it expires on its own');
  }
}
