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

/**
 * A caller who asked to be called back (issue 15, "callback that keeps your place"): its entry says
 * 'callback' (waiting for its turn, as a caller on the line would: those behind it are not served first)
 * or 'serving' (an agent is being rung for it), and this key holds who to call back (JSON
 * `QueueCallbackEntry`), with the same expiry. The entry outlives the caller's call: it is kept for the
 * queue's longest wait, then dropped.
 */
export const queueCallbackKey = (queueExtensionId: string, entryId: string): string => `carillon:queue:{${queueExtensionId}}:callback:${entryId}`;
/**
 * The queues that may hold callbacks, which every node looks through for one whose turn has come: a
 * sorted set of queue extension ids, scored by when their last callback expires (ms epoch).
 */
export const QUEUE_CALLBACKS_KEY = 'carillon:queue-callbacks';
/** A callback being served is kept this long unless its node refreshes it (a node that dies while serving one drops it). */
export const QUEUE_CALLBACK_SERVING_TTL_MS = 60_000;

/** Who to call back, and for which queue. */
export interface QueueCallbackEntry {
  accountId: string;
  queueId: string;
  entryId: string;
  /** The caller's number: an extension of the account (with `extensionId`) or an outside number. */
  number: string;
  extensionId: string | null;
  /** When it asked (ISO). */
  requestedAt: string;
  /** Calls back tried already without the caller answering. */
  attempts: number;
}

/**
 * The supervisor view (issue 15): who each waiting caller is and since when, by entry id (a hash: field
 * = entry id, value = JSON `QueueCallerInfo`). Written when the caller joins and removed when it leaves;
 * a reader skips the fields whose entry has expired (a node that died), so nothing stale is shown.
 */
export const queueCallersKey = (queueExtensionId: string): string => `carillon:queue:{${queueExtensionId}}:callers`;

export interface QueueCallerInfo {
  /** The caller ID: number and name as the call arrived (either may be missing). */
  number: string | null;
  name: string | null;
  /** When the caller joined this queue (ms epoch): the live wait is counted from it. */
  joinedAt: number;
}

/**
 * A queue's figures of one day of its account's wall clock (`queueDay`), a hash of counters:
 * `entered`, `answered`, `abandoned` (hung up while waiting), `callbacks` (asked to be called back),
 * `waitMs` and `waited` (the summed waits and how many, of the callers who left the queue however they
 * did) and `longestMs`. Kept two days, so that yesterday's figures are still there at midnight.
 */
export const queueDayKey = (queueExtensionId: string, day: string): string => `carillon:queue:{${queueExtensionId}}:day:${day}`;
export const QUEUE_DAY_TTL_MS = 2 * 24 * 3600_000;

/** The account's day (YYYY-MM-DD) at `at` on the wall clock of `timeZone` (IANA). */
export function queueDay(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** How a caller left a queue: taken by an agent, hung up, asked for a callback, sent on by the queue's rules (exit action, overflow). */
export type QueueLeaveOutcome = 'answered' | 'abandoned' | 'callback' | 'sent_on';

export interface QueueDayFigures {
  entered: number;
  answered: number;
  abandoned: number;
  callbacks: number;
  /** Of the callers who left the queue today; null before the first. */
  averageWaitSeconds: number | null;
  longestWaitSeconds: number | null;
}

/** The figures of a `queueDayKey` hash as HGETALL returns it (an empty hash: a day without calls). */
export function queueDayFigures(hash: Record<string, string>): QueueDayFigures {
  const n = (field: string) => {
    const v = Number(hash[field] ?? 0);
    return Number.isFinite(v) && v > 0 ? v : 0;
  };
  const waited = n('waited');
  return {
    entered: n('entered'),
    answered: n('answered'),
    abandoned: n('abandoned'),
    callbacks: n('callbacks'),
    averageWaitSeconds: waited ? Math.round(n('waitMs') / waited / 1000) : null,
    longestWaitSeconds: waited ? Math.round(n('longestMs') / 1000) : null,
  };
}

/**
 * Published with an account id whenever a queue of that account changes (a caller joins or leaves, a
 * member is offered a call, is on one or in wrap-up): the app sends the supervisor views again. The
 * members' own calls, registrations and DND come on PRESENCE_CHANNEL.
 */
export const QUEUE_CHANGES_CHANNEL = 'carillon:queue-changes';
