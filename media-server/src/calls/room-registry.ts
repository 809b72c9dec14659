import { RoomFullError, type RoomRef } from '../apps/call-handle.ts';
import type { ContainerHandle, MediaEngine, RoomHandle } from '../media/index.ts';

/** Members of one room at most (issue 16: a conference of up to 1,000; the mixer's own limit, media/mixer/room.ts). */
export const ROOM_CAPACITY = 1000;

/** A seat in a room: the room, and the release of the seat (the last one closes the room). */
export interface RoomSeat {
  room: RoomHandle;
  leave(): Promise<void>;
}

interface OpenRoom {
  /** Seats taken, including members whose room is still being created. */
  seats: number;
  room: Promise<RoomHandle>;
}

/**
 * The rooms of this node's application calls, by account and room id: the one owner of when a
 * room opens and closes. A room is created with its first seat (on the worker of that member's
 * bridge, so the member's endpoint moves in without a pipe) and closed when its last seat is
 * released. Seats are counted when they are asked for, before the room exists, so that a flood of
 * joiners cannot pass the capacity while the room is being created.
 */
export class RoomRegistry {
  private readonly media: MediaEngine;
  private readonly capacity: number;
  private readonly rooms = new Map<string, OpenRoom>();

  constructor(media: MediaEngine, options: { capacity?: number } = {}) {
    this.media = media;
    this.capacity = options.capacity ?? ROOM_CAPACITY;
  }

  /**
   * Takes a seat in the room, opening it `near` the member's container if it is the first (a dial-out's
   * seat, taken before its party has a container, opens it on the least loaded worker); RoomFullError
   * past the capacity.
   */
  async enter(ref: RoomRef, near: ContainerHandle | undefined): Promise<RoomSeat> {
    const key = keyOf(ref);
    let open = this.rooms.get(key);
    if (open && open.seats >= this.capacity) throw new RoomFullError(this.capacity);
    if (!open) {
      const room = this.media.createRoom(near ? { near } : {});
      open = { seats: 0, room };
      this.rooms.set(key, open);
      // A room that could not be created frees its key at once; every seat waiting on it rejects.
      room.catch(() => {
        if (this.rooms.get(key) === open) this.rooms.delete(key);
      });
    }
    open.seats++;
    const held = open;
    let left = false;
    const leave = async () => {
      if (left) return;
      left = true;
      held.seats--;
      if (held.seats > 0) return;
      if (this.rooms.get(key) === held) this.rooms.delete(key);
      const room = await held.room.catch(() => null);
      if (room && !room.closed) await room.close();
    };
    try {
      return { room: await held.room, leave };
    } catch (err) {
      await leave();
      throw err;
    }
  }

  /** Seats taken in a room now (0 when it is not open). */
  members(ref: RoomRef): number {
    return this.rooms.get(keyOf(ref))?.seats ?? 0;
  }

  /** Rooms open now. */
  get size(): number {
    return this.rooms.size;
  }
}

const keyOf = (ref: RoomRef) => `${ref.accountId}\u0000${ref.roomId}`;
