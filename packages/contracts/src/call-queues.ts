/**
 * Call queues' live state in Redis (issue 15), shared by every media-server node: a caller waiting in a
 * queue may be on any node, and so may the call a member is on. Bounded: a queue holds at most 25
 * callers (CQ-01), each entry and each member's mark expires unless its node keeps it alive, so a node
 * that dies leaves nothing stuck.
 */

/** The callers waiting in a queue, in order of arrival (a sorted set: member = entry id, score = arrival in ms). */
export const queueWaitingKey = (queueExtensionId: string): string => `carillon:queue:{${queueExtensionId}}:waiting`;
/** One waiting caller's entry: 'waiting' or 'offering' (being offered to members); kept alive by its node. */
export const queueEntryKey = (queueExtensionId: string, entryId: string): string => `carillon:queue:{${queueExtensionId}}:entry:${entryId}`;
/** The rotating pointer: the member last offered a call by this queue (Rotating distribution). */
export const queueRotorKey = (queueExtensionId: string): string => `carillon:queue:{${queueExtensionId}}:rotor`;
/** The queue's running handle time in ms (how long its answered calls last), for the expected wait it announces. */
export const queueHandleTimeKey = (queueExtensionId: string): string => `carillon:queue:{${queueExtensionId}}:handle-ms`;
/**
 * A member taken by a queue, for every queue of the account at once (a member rings for one queue call
 * at a time): 'offered', 'busy' (on the queue call) or 'wrap-up', with an expiry.
 */
export const queueMemberKey = (accountId: string, extensionId: string): string => `carillon:queue-member:${accountId}:${extensionId}`;

/** An entry not refreshed for this long is a caller whose node died: it is dropped. */
export const QUEUE_ENTRY_TTL_MS = 30_000;
/** A member's 'busy' mark not refreshed for this long is a call whose node died. */
export const QUEUE_MEMBER_BUSY_TTL_MS = 60_000;
/** The waiting set and the pointer of a queue nobody called for a day go. */
export const QUEUE_IDLE_TTL_MS = 24 * 3600_000;

export type QueueMemberMark = 'offered' | 'busy' | 'wrap-up';
