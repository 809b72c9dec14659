import type { LiveCounts } from '@carillon/contracts/media-server-heartbeat';

/** What this node holds open, for its heartbeat (the contract is in @carillon/contracts/media-server-heartbeat). */
export function liveCounts(calls: { activeCalls: number }, media: { bridgeCount: number; legCount: number }): LiveCounts {
  return { calls: calls.activeCalls, legs: media.legCount, bridges: media.bridgeCount, endpoints: 0, rooms: 0 };
}
