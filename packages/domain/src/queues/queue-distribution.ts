import { dndTakesCall, type DndStatus } from '../answering-rules/do-not-disturb.ts';
import { QUEUE_MAX_CALLERS, type QueueDistribution } from './queue-settings.ts';

/**
 * Which members a waiting caller is offered to next (CQ-04). Pure: the
 * application gathers each member's state (its phones, its calls, its queue
 * login, its Do Not Disturb) and the queue's rotating pointer, and this
 * decides.
 */

/** A member as the queue sees it at one moment. */
export interface QueueMemberState {
  extensionId: string;
  /** The admin's order (Sequential), also the order of the rotation. */
  position: number;
  /** The member's "accepting queue calls" for this queue (logged in). */
  accepting: boolean;
  dnd: DndStatus;
  /** At least one phone registered. */
  online: boolean;
  /** On a call or ringing (any call), offered by a queue, or in wrap-up. */
  busy: boolean;
}

export type MemberAvailability = 'available' | 'not_accepting' | 'dnd' | 'offline' | 'busy';

/** Why a member is or is not offered a queue call; the first reason that applies wins. */
export function memberAvailability(m: QueueMemberState): MemberAvailability {
  if (!m.accepting) return 'not_accepting';
  // "Take no call-queue calls" and "take no calls" both keep queue calls away.
  if (!dndTakesCall(m.dnd, 'queue')) return 'dnd';
  if (!m.online) return 'offline';
  if (m.busy) return 'busy';
  return 'available';
}

/**
 * The members to offer the call to now, in order:
 * - Rotating: one member, the first available after the rotating pointer (the member last offered a
 *   call by this queue) in the members' order, wrapping around, so calls spread evenly;
 * - Sequential: one member, the first available in the admin's order;
 * - Simultaneous: every available member at once.
 * `tried` holds the members this caller was already offered to without an answer in this round; they
 * come after the others (a caller is not offered to the same member twice while someone else is free),
 * and once every available member was tried, the round starts again. Empty: nobody is available.
 */
export function membersToOffer(input: { distribution: QueueDistribution; members: readonly QueueMemberState[]; rotor: string | null; tried: ReadonlySet<string> }): string[] {
  const ordered = [...input.members].sort((a, b) => a.position - b.position || a.extensionId.localeCompare(b.extensionId));
  const available = ordered.filter((m) => memberAvailability(m) === 'available').map((m) => m.extensionId);
  if (available.length === 0) return [];
  if (input.distribution === 'simultaneous') return available;
  let order = available;
  if (input.distribution === 'rotating') {
    const all = ordered.map((m) => m.extensionId);
    const at = input.rotor === null ? -1 : all.indexOf(input.rotor);
    // Members after the pointer first, then those up to and including it.
    const rank = (id: string) => (all.indexOf(id) - at - 1 + all.length) % all.length;
    order = [...available].sort((a, b) => rank(a) - rank(b));
  }
  const fresh = order.filter((id) => !input.tried.has(id));
  return [(fresh.length ? fresh : order)[0]!];
}

/** Whether a new caller may join a queue that has `waiting` callers (CQ-01: at most `maxCallers`, never more than 25). */
export function queueHasRoom(waiting: number, maxCallers: number): boolean {
  return waiting < Math.min(maxCallers, QUEUE_MAX_CALLERS);
}
