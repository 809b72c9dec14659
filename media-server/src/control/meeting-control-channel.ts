import type { Redis } from 'ioredis';
import type { Logger } from '@carillon/config';
import type { CallOwner } from '@carillon/contracts/call-control';
import {
  MEETING_CLAIM_CHANNEL,
  MEETING_EVENTS_CHANNEL,
  MEETING_OWNER_TTL_MS,
  meetingCommandChannel,
  meetingOwnerKey,
  readMeetingCommand,
  type MeetingCommand,
  type MeetingCommandResult,
  type MeetingEvent,
  type MeetingLiveEvent,
} from '@carillon/contracts/meeting-control';

/** What the channel hands commands to: the node's meetings (meetings/meeting-rooms.ts), wired by start-meetings.ts. */
export interface MeetingTarget {
  command(command: MeetingCommand): Promise<Pick<MeetingCommandResult, 'outcome' | 'reason' | 'peers' | 'transport' | 'producerId' | 'consumer'>>;
  /** Whether this node hosts the meeting now. */
  hosts(meetingId: string): boolean;
}

const RELEASE_IF_OWNER = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/**
 * The node's end of the meetings' signalling (contracts/meeting-control.ts): it listens on its own
 * meeting command channel and on the claim channel, checks each command against the contract (a bad
 * one is answered `refused` with the reason; nothing a peer sends can throw here), hands it to the
 * node's MeetingRooms and publishes the result. A `join` on the claim channel is taken only by the
 * node that writes the meeting's owner record first (SET NX), so one meeting has one Router.
 */
export class MeetingControlChannel {
  readonly #subscriber: Redis;
  readonly #publisher: Redis;
  readonly #nodeId: string;
  readonly #log: Logger;
  #rooms: MeetingTarget | null = null;

  private constructor(o: { subscriber: Redis; publisher: Redis; nodeId: string; log: Logger }) {
    this.#subscriber = o.subscriber;
    this.#publisher = o.publisher;
    this.#nodeId = o.nodeId;
    this.#log = o.log;
  }

  /** `subscriber` becomes a subscriber connection (ioredis): give it a connection of its own. `rooms` is attached right after (it needs this channel's publish). */
  static async start(o: { subscriber: Redis; publisher: Redis; nodeId: string; log: Logger }): Promise<MeetingControlChannel> {
    const channel = new MeetingControlChannel(o);
    const own = meetingCommandChannel(o.nodeId);
    o.subscriber.on('message', (name: string, message: string) => {
      if (name === own) void channel.#onCommand(message, false);
      else if (name === MEETING_CLAIM_CHANNEL) void channel.#onCommand(message, true);
    });
    await o.subscriber.subscribe(own, MEETING_CLAIM_CHANNEL);
    o.log.info('meeting control channel listening', { channel: own });
    return channel;
  }

  attach(rooms: MeetingTarget): void {
    this.#rooms = rooms;
  }

  /** What a meeting tells its other peers. */
  publish(meetingId: string, accountId: string, change: Omit<MeetingLiveEvent, 'accountId' | 'meetingId'>): void {
    this.#send({ ...change, accountId, meetingId } as MeetingEvent);
  }

  /** The meeting closed here: its owner record goes, if it is still ours. */
  ended(meetingId: string, accountId: string): void {
    this.#publisher.eval(RELEASE_IF_OWNER, 1, meetingOwnerKey(meetingId), this.#owner(accountId)).catch((err: unknown) => this.#log.warn('meeting owner not removed; it expires on its own', { meetingId, error: err }));
  }

  async stop(): Promise<void> {
    await this.#subscriber.unsubscribe().catch(() => undefined);
  }

  #owner(accountId: string): string {
    return JSON.stringify({ nodeId: this.#nodeId, accountId } satisfies CallOwner);
  }

  async #onCommand(message: string, claim: boolean): Promise<void> {
    const read = readMeetingCommand(message);
    if (!read.ok) {
      // A bad message on the shared claim channel is every node's: one answer is enough, and only its owner knows it is its own.
      if (claim) return;
      this.#log.warn('meeting command refused', { reason: read.reason });
      if (read.commandId && read.accountId && read.meetingId) this.#send({ type: 'command-result', commandId: read.commandId, accountId: read.accountId, meetingId: read.meetingId, outcome: 'refused', reason: read.reason });
      return;
    }
    const command = read.command;
    const rooms = this.#rooms;
    if (claim) {
      if (command.type !== 'join' || !rooms) return;
      const won = await this.#publisher.set(meetingOwnerKey(command.meetingId), this.#owner(command.accountId), 'PX', MEETING_OWNER_TTL_MS, 'NX').catch(() => null);
      // Another node hosts it (or won the race): it answers.
      if (won !== 'OK') return;
    }
    const result = rooms ? await rooms.command(command) : { outcome: 'not_found' as const, reason: 'meetings are not available on this node' };
    if (claim && result.outcome !== 'done' && !rooms?.hosts(command.meetingId)) this.ended(command.meetingId, command.accountId);
    this.#send({ type: 'command-result', commandId: command.commandId, accountId: command.accountId, meetingId: command.meetingId, ...result });
  }

  #send(event: MeetingEvent): void {
    this.#publisher.publish(MEETING_EVENTS_CHANNEL, JSON.stringify(event)).catch((err: unknown) => this.#log.warn('meeting event not published', { type: event.type, error: err }));
  }
}

