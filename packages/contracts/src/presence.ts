/**
 * Where presence lives in Redis, shared by media-server (which writes what
 * its calls do) and the app (which reads it and pushes it to browsers).
 * Each node keeps its own hash, refreshed with its heartbeat, so a node
 * that dies takes its stale "on a call" states with it.
 */
export const PRESENCE_KEY_PREFIX = 'carillon:presence:';
/** Published with an account id whenever a presence input of that account changes (calls, registrations, DND). */
export const PRESENCE_CHANNEL = 'carillon:presence-changes';

export const presenceKey = (nodeId: string): string => `${PRESENCE_KEY_PREFIX}${nodeId}`;
/** Field of a node's hash: the extension's call activity on that node. */
export const presenceField = (accountId: string, extensionId: string): string => `${accountId}:${extensionId}`;

export interface CallActivity {
  ringing: number;
  onCall: number;
  /** Of the calls up, how many the extension's user holds (absent: none). */
  held?: number;
}
