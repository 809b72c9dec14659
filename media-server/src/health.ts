import type { LiveCounts } from '@carillon/contracts/media-server-heartbeat';
import type { MediaLiveCounts } from './media/index.ts';

/** What this node holds open, for its heartbeat (the contract is in @carillon/contracts/media-server-heartbeat). */
export function liveCounts(calls: { activeCalls: number }, media: { liveCounts(): MediaLiveCounts }): LiveCounts {
  return { calls: calls.activeCalls, ...media.liveCounts() };
}
