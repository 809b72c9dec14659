/**
 * Park locations' live state (issue 15 point 4), shared by media-server nodes
 * in Redis: one key per occupied location, written with NX so that one call
 * only is parked per location (PK-01) whichever node parks it, and removed
 * when the call is retrieved, recalled or hung up. Its TTL is a ceiling for a
 * node that died with a parked call.
 */
export const parkSlotKey = (accountId: string, location: string): string => `carillon:park:${accountId}:${location}`;
/** The pattern of every occupied location (tests and monitoring count them). */
export const PARK_SLOT_PATTERN = 'carillon:park:*';
export const PARK_SLOT_TTL_MS = 3600_000;

/** What an occupied location's key holds: where the parked call lives. */
export interface ParkedCallRef {
  nodeId: string;
  /** The parked call's SIP Call-ID on that node. */
  callId: string;
  /** The extension that parked it, rung back at the recall. */
  parkedBy: string | null;
}
