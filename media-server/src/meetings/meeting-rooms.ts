/**
 * The meetings this node hosts (issue 17): one SFU Router per meeting on the SFU thread, and each
 * joiner a peer with its transports (one to send, one to receive), producers and consumers. It
 * answers the signalling commands of contracts/meeting-control.ts and tells what changes (a new
 * producer, a producer closed, a peer gone) through `publish`. Every object a peer names is looked up
 * among that peer's own, and a consumer only for a producer of the same meeting: a browser cannot
 * reach another meeting's media by guessing ids. What one peer and one meeting may hold is bounded.
 */
import {
  MEETING_MAX_PEERS,
  MEETING_MAX_PRODUCERS_PER_PEER,
  MEETING_MAX_TRANSPORTS_PER_PEER,
  type MeetingCommand,
  type MeetingCommandResult,
  type MeetingLiveEvent,
  type MeetingPeer,
} from '@carillon/contracts/meeting-control';
import type { Logger } from '@carillon/config';
import type { SfuEvent, SfuThread } from '../sfu/index.ts';

type Result = Pick<MeetingCommandResult, 'outcome' | 'reason' | 'peers' | 'transport' | 'producerId' | 'consumer'>;
type Change = MeetingLiveEvent extends infer E ? (E extends MeetingLiveEvent ? Omit<E, 'accountId' | 'meetingId'> : never) : never;

interface Peer {
  readonly peerId: string;
  readonly userId: string;
  readonly displayName: string;
  readonly transports: Map<string, 'send' | 'recv'>;
  readonly producers: Map<string, 'audio' | 'video'>;
  readonly consumers: Set<string>;
}

interface Room {
  readonly meetingId: string;
  readonly accountId: string;
  readonly routerId: string;
  readonly peers: Map<string, Peer>;
}

export interface MeetingRoomsOptions {
  sfu: SfuThread;
  webRtcServerId: string;
  log: Logger;
  /** A change in a meeting, for its other peers. */
  publish(meetingId: string, accountId: string, change: Change): void;
  /** The meeting's last peer left: its Router is closed (the owner record goes). */
  ended(meetingId: string, accountId: string): void;
  maxPeers?: number;
}

const done = (extra: Omit<Result, 'outcome'> = {}): Result => ({ outcome: 'done', ...extra });
const notFound = (reason: string): Result => ({ outcome: 'not_found', reason });
const refused = (reason: string): Result => ({ outcome: 'refused', reason });

export class MeetingRooms {
  readonly #o: MeetingRoomsOptions;
  readonly #maxPeers: number;
  readonly #rooms = new Map<string, Room>();
  /** Opening a Router is awaited; joins of the same meeting meanwhile wait for the same one. */
  readonly #opening = new Map<string, Promise<Room>>();

  constructor(o: MeetingRoomsOptions) {
    this.#o = o;
    this.#maxPeers = o.maxPeers ?? MEETING_MAX_PEERS;
    o.sfu.on('sfu-event', (e) => this.#onSfuEvent(e));
  }

  /** Whether this node hosts the meeting now. */
  hosts(meetingId: string): boolean {
    return this.#rooms.has(meetingId) || this.#opening.has(meetingId);
  }

  get size(): number {
    return this.#rooms.size;
  }

  async command(c: MeetingCommand): Promise<Result> {
    try {
      return await this.#command(c);
    } catch (err) {
      // The SFU refused (bad RTP parameters, an SSRC taken): the peer's mistake, said back to it.
      this.#o.log.warn('meeting command failed', { type: c.type, meetingId: c.meetingId, error: err });
      return { outcome: 'failed', reason: (err instanceof Error ? err.message : String(err)).slice(0, 500) };
    }
  }

  async #command(c: MeetingCommand): Promise<Result> {
    if (c.type === 'join') return this.#join(c);
    const room = this.#rooms.get(c.meetingId);
    if (!room || room.accountId !== c.accountId) return notFound('no such meeting on this node');
    const peer = room.peers.get(c.peerId);
    if (!peer) return notFound('not in this meeting');
    const sfu = this.#o.sfu;
    switch (c.type) {
      case 'create-transport': {
        if (peer.transports.size >= MEETING_MAX_TRANSPORTS_PER_PEER) return refused(`at most ${MEETING_MAX_TRANSPORTS_PER_PEER} transports per peer`);
        if ([...peer.transports.values()].includes(c.direction)) return refused(`a ${c.direction} transport is already open`);
        const transport = await sfu.createWebRtcTransport(room.routerId, this.#o.webRtcServerId);
        peer.transports.set(transport.id, c.direction);
        return done({ transport: { ...transport, iceCandidates: [...transport.iceCandidates] } });
      }
      case 'connect-transport': {
        if (!peer.transports.has(c.transportId)) return notFound('no such transport');
        await sfu.connectTransport(c.transportId, c.dtlsParameters);
        return done();
      }
      case 'produce': {
        if (peer.transports.get(c.transportId) !== 'send') return notFound('no such send transport');
        if (peer.producers.size >= MEETING_MAX_PRODUCERS_PER_PEER) return refused(`at most ${MEETING_MAX_PRODUCERS_PER_PEER} tracks per peer`);
        const producerId = await sfu.produce(c.transportId, c.kind, c.rtpParameters);
        peer.producers.set(producerId, c.kind);
        this.#o.publish(room.meetingId, room.accountId, { type: 'new-producer', peerId: peer.peerId, producerId, kind: c.kind });
        return done({ producerId });
      }
      case 'consume': {
        if (peer.transports.get(c.transportId) !== 'recv') return notFound('no such receive transport');
        // The producer must be another peer's of this very meeting (the Router would also refuse another's).
        const owner = [...room.peers.values()].find((p) => p.producers.has(c.producerId));
        if (!owner || owner === peer) return notFound('no such producer in this meeting');
        const consumer = await sfu.consume(c.transportId, c.producerId);
        peer.consumers.add(consumer.id);
        return done({ consumer: { ...consumer, peerId: owner.peerId } });
      }
      case 'close-producer': {
        if (!peer.producers.has(c.producerId)) return notFound('no such producer');
        peer.producers.delete(c.producerId);
        await sfu.closeProducer(c.producerId);
        this.#o.publish(room.meetingId, room.accountId, { type: 'producer-closed', peerId: peer.peerId, producerId: c.producerId });
        return done();
      }
      case 'leave':
        await this.#leave(room, peer);
        return done();
    }
  }

  async #join(c: Extract<MeetingCommand, { type: 'join' }>): Promise<Result> {
    const existing = this.#rooms.get(c.meetingId);
    if (existing && existing.accountId !== c.accountId) return notFound('no such meeting on this node');
    if (existing?.peers.has(c.peerId)) return done({ peers: this.#others(existing, c.peerId) });
    if (existing && existing.peers.size >= this.#maxPeers) return { outcome: 'meeting_full', reason: `the meeting has ${this.#maxPeers} seats` };
    const room = existing ?? (await this.#open(c.meetingId, c.accountId));
    if (room.accountId !== c.accountId) return notFound('no such meeting on this node');
    if (room.peers.size >= this.#maxPeers) return { outcome: 'meeting_full', reason: `the meeting has ${this.#maxPeers} seats` };
    const peer: Peer = { peerId: c.peerId, userId: c.userId, displayName: c.displayName, transports: new Map(), producers: new Map(), consumers: new Set() };
    const others = this.#others(room, c.peerId);
    room.peers.set(peer.peerId, peer);
    this.#o.publish(room.meetingId, room.accountId, { type: 'peer-joined', peer: this.#view(peer) });
    return done({ peers: others });
  }

  #open(meetingId: string, accountId: string): Promise<Room> {
    const pending = this.#opening.get(meetingId);
    if (pending) return pending;
    const opening = (async () => {
      const routerId = await this.#o.sfu.createRouter();
      const room: Room = { meetingId, accountId, routerId, peers: new Map() };
      this.#rooms.set(meetingId, room);
      this.#o.log.info('meeting opened', { meetingId, routerId });
      return room;
    })().finally(() => this.#opening.delete(meetingId));
    this.#opening.set(meetingId, opening);
    return opening;
  }

  #view(p: Peer): MeetingPeer {
    return { peerId: p.peerId, userId: p.userId, displayName: p.displayName, producers: [...p.producers].map(([producerId, kind]) => ({ producerId, kind })) };
  }

  #others(room: Room, peerId: string): MeetingPeer[] {
    return [...room.peers.values()].filter((p) => p.peerId !== peerId).map((p) => this.#view(p));
  }

  /** The peer's transports close, and with them its producers and consumers (the SFU's cascade): the other peers' consumers of it close too. */
  async #leave(room: Room, peer: Peer): Promise<void> {
    room.peers.delete(peer.peerId);
    for (const id of peer.transports.keys()) await this.#o.sfu.closeTransport(id).catch(() => undefined);
    this.#o.publish(room.meetingId, room.accountId, { type: 'peer-left', peerId: peer.peerId });
    if (room.peers.size === 0) {
      this.#rooms.delete(room.meetingId);
      await this.#o.sfu.closeRouter(room.routerId).catch(() => undefined);
      this.#o.log.info('meeting closed: its last peer left', { meetingId: room.meetingId });
      this.#o.ended(room.meetingId, room.accountId);
    }
  }

  /** A consumer closed by the SFU's cascade (its producer's peer left) is forgotten by its peer. */
  #onSfuEvent(e: SfuEvent): void {
    if (e.type !== 'closed' || e.kind !== 'consumer') return;
    for (const room of this.#rooms.values()) for (const p of room.peers.values()) p.consumers.delete(e.id);
  }

  /** Every meeting's peers leave (the node stops). */
  async closeAll(): Promise<void> {
    for (const room of [...this.#rooms.values()]) for (const peer of [...room.peers.values()]) await this.#leave(room, peer);
  }
}
