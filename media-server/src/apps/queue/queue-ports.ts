import type { DndStatus, QueueSettings } from '@carillon/domain';
import type { QueueCallbackEntry, QueueLeaveOutcome } from '@carillon/contracts/call-queues';
import type { ExtensionDestination } from '../../routing/destination.ts';

/**
 * What the queue application reaches besides the call: the queues' configuration and the members'
 * phones and calls (`QueueDirectory`), and the live state the media-server nodes share
 * (`QueueState`). Applications cannot reach the database or Redis (ARCHITECTURE.md: `apps/` imports
 * only `routing/` and `cache/`); calls/queue-directory-source.ts and calls/queue-state-redis.ts
 * implement them.
 */

export interface QueueMemberConfig {
  extensionId: string;
  number: string;
  position: number;
  /** "Accepting queue calls" for this queue (the agent's log-in). */
  accepting: boolean;
}

export interface QueueConfig {
  extensionId: string;
  number: string;
  settings: QueueSettings;
  /** In the admin's order. */
  members: QueueMemberConfig[];
  /** The account's IANA time zone: the queue's hours are read on its wall clock (CQ-12). */
  timeZone: string;
}

/** A member's phones and calls now, whatever queue or call they come from. */
export interface MemberPresence {
  dnd: DndStatus;
  /** At least one phone registered. */
  online: boolean;
  /** On a call or ringing, on any node. */
  onCall: boolean;
}

export interface QueueDirectory {
  /** The queue (an extension of type call_queue of the account) with its settings and members; null when it is not one. */
  ofQueue(accountId: string, queueExtensionId: string): Promise<QueueConfig | null>;
  /** A queue of the account by its extension number (an overflow target); null when it is not one. */
  queueByNumber(accountId: string, number: string): Promise<QueueConfig | null>;
  memberPresence(accountId: string, extensionIds: readonly string[]): Promise<Map<string, MemberPresence>>;
  /** A user's extension of the account by number (an exit action's target); null when there is none. */
  userExtension(accountId: string, number: string): Promise<ExtensionDestination | null>;
  /** A prompt of the account's library by name: its media file, or null. */
  promptFile(accountId: string, name: string): Promise<string | null>;
  /** The shipped hold music (a media file). */
  readonly defaultHoldMusic: string;
}

/** What an agent's keypad code changed: how many of its queues, or the queue it named is not one of its own. */
export type AgentLoginResult = { changed: number; queues: number } | 'not_a_member';

/**
 * An agent's log-in and log-out by keypad code (`*45`, `*46`): its "accepting queue calls" for one
 * queue it belongs to (by the queue's number) or for all of them, written as the web app's toggle
 * writes it (audited, announced), and seen by the next offer on every node.
 */
export interface QueueAgents {
  setAccepting(accountId: string, memberExtensionId: string, queueNumber: string | null, accepting: boolean): Promise<AgentLoginResult>;
}

/**
 * The queues' live state, shared by every node (Redis): who waits in which order, the rotating
 * pointer, and which members a queue has taken (offered, on a queue call, in wrap-up). Every entry and
 * mark expires unless kept alive, so a node that dies leaves nobody stuck waiting or busy.
 */
export interface QueueState {
  /** Adds a caller at the end of the queue unless `maxCallers` wait already: its position (0 first), or 'full'. */
  join(queueId: string, entryId: string, maxCallers: number): Promise<number | 'full'>;
  /** Keeps the entry alive and says whether it waits or is being offered to members. */
  keepAlive(queueId: string, entryId: string, status: 'waiting' | 'offering'): Promise<void>;
  leave(queueId: string, entryId: string): Promise<void>;
  /**
   * The caller hung up to be called back and keeps its place: its entry becomes a callback, kept for
   * `ttlMs` whatever happens to the call (false when the entry had left the queue already).
   */
  holdForCallback(entry: QueueCallbackEntry, ttlMs: number): Promise<boolean>;
  /** Each queue's first callback whose turn has come (nobody ahead of it still waits), with its account. */
  dueCallbacks(): Promise<{ queueId: string; entryId: string; accountId: string }[]>;
  /** Takes a due callback to serve it (one node gets it): who to call back, or null when another node took it or it is gone. */
  takeCallback(queueId: string, entryId: string): Promise<QueueCallbackEntry | null>;
  /** Keeps a callback being served alive (a node that dies while serving one drops it). */
  keepServing(queueId: string, entryId: string): Promise<void>;
  /** A callback not served this time goes back to its place for a later try, kept for `ttlMs`. */
  returnCallback(entry: QueueCallbackEntry, ttlMs: number): Promise<boolean>;
  /** Whether no caller ahead of this one is still waiting to be offered (callers are offered in order of arrival; a callback waits as a caller does). */
  isNext(queueId: string, entryId: string): Promise<boolean>;
  /** Callers in the queue now. */
  waiting(queueId: string): Promise<number>;
  /** The caller's place (0: next), or null when it is not in the queue. */
  position(queueId: string, entryId: string): Promise<number | null>;
  /** The running handle time (ms) of the queue's answered calls, or null before the first. */
  handleTime(queueId: string): Promise<number | null>;
  /** An answered call of the queue lasted `ms`: the running handle time moves towards it. */
  recordHandleTime(queueId: string, ms: number): Promise<void>;
  rotor(queueId: string): Promise<string | null>;
  setRotor(queueId: string, memberId: string): Promise<void>;
  /** The members some queue holds now (offered, busy or in wrap-up). */
  takenMembers(accountId: string, extensionIds: readonly string[]): Promise<Set<string>>;
  /** Takes a member for an offer, unless another queue caller has it: whether it was taken. */
  claim(accountId: string, extensionId: string, owner: string, ttlMs: number): Promise<boolean>;
  /** The member answered: busy on the queue call (refreshed while it lasts). */
  markBusy(accountId: string, extensionId: string, owner: string): Promise<void>;
  /** Gives the member back: at once, or after `wrapUpMs` of wrap-up. Only the owner's mark is touched. */
  release(accountId: string, extensionId: string, owner: string, wrapUpMs: number): Promise<void>;
  /**
   * The supervisor view: a caller joined the queue (who it is, from when), counted in the figures of
   * `day` (the account's day, contracts' queueDay). Supervisors are told.
   */
  entered(accountId: string, queueId: string, entryId: string, caller: { number: string | null; name: string | null }, day: string): Promise<void>;
  /** The caller left the queue after waiting `waitMs`, as `outcome` says; counted in `day`'s figures. Supervisors are told. */
  left(accountId: string, queueId: string, entryId: string, outcome: QueueLeaveOutcome, waitMs: number, day: string): Promise<void>;
}
