import type { ParkRefusal } from '@carillon/domain';
import type { Destination } from '../routing/destination.ts';
import type { ParkableCall, ParkLot } from './park-lot.ts';

/**
 * Parking a party (issue 15 point 4, PK-01), the part every kind of call does the same way: a B2BUA
 * call's party (calls/b2bua-call.ts) and the party an application call's `bridgeTo` connected
 * (calls/app-call.ts, a queue agent) park the other party on a location by REFER (RFC 5589 §6, a
 * blind transfer to the location's number) or by the in-call park code (calls/park-code.ts).
 * Members only, one call per location (calls/park-lot.ts); the party that waits hears hold music.
 */

/** A park location as the dial plan names it (routing/destination.ts). */
export type ParkDestination = Extract<Destination, { kind: 'park' }>;

/** Why a park did not happen (null: parked): the lot's refusal, or 'changed' when the call moved on while the location was taken. */
export type ParkOutcome = ParkRefusal | 'changed' | null;

/** What a recalled call shows on the parker's display, as desk phones show it: "Park 801". */
export const recallCallerName = (location: string): string => `Park ${location}`;

/**
 * Takes the location for `call` on behalf of `parkerExtensionId` and, unless the call changed meanwhile
 * (taking it awaits: the call may have ended, the parker left, a transfer started; the location is then
 * given back), lets the call mark itself parked and put the waiting party on hold music (`parked`).
 */
export async function parkOnLocation<C extends ParkableCall>(
  lot: Pick<ParkLot<C>, 'park' | 'release'>,
  call: C,
  p: {
    accountId: string;
    destination: ParkDestination;
    parkerExtensionId: string | null;
    stillFits: () => boolean;
    parked: (location: string) => Promise<void>;
  },
): Promise<ParkOutcome> {
  const { slot, extensionId } = p.destination;
  if (!slot || !extensionId) return 'occupied';
  const refusal = await lot.park(call, { accountId: p.accountId, location: slot, parkExtensionId: extensionId, parkerExtensionId: p.parkerExtensionId });
  if (refusal) return refusal;
  if (!p.stillFits()) {
    lot.release(call);
    return 'changed';
  }
  await p.parked(slot);
  return null;
}

/**
 * The status line of the REFER's final NOTIFY for a park (RFC 3515 §2.4.5, message/sipfrag): 200 parked,
 * 403 for a non-member, 480 for a disabled location, 486 when the location holds a call already, 487
 * when the call moved on meanwhile.
 */
export function parkSipfrag(outcome: ParkOutcome): string {
  if (outcome === null) return 'SIP/2.0 200 OK';
  if (outcome === 'changed') return 'SIP/2.0 487 Request Terminated';
  if (outcome === 'not-a-member') return 'SIP/2.0 403 Forbidden';
  if (outcome === 'disabled') return 'SIP/2.0 480 Temporarily Unavailable';
  return 'SIP/2.0 486 Busy Here';
}
