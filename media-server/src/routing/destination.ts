import type { CallResult } from '@carillon/db';
import type { MonitorMode } from '@carillon/domain';

/**
 * Where the dial plan sends a call: one case per kind of application that
 * can take it. The call engine hands the call to the application of its
 * destination (`apps/`); a destination whose application does not exist yet
 * gets a clear announcement or a 480, never a 500.
 */
export type Destination =
  | ExtensionDestination
  | PstnDestination
  | { kind: 'voicemail'; accountId: string; extensionId: string; extensionNumber: string; why: VoicemailReason }
  | { kind: 'ivr'; accountId: string; menuId: string | null; direction: CallDirection }
  | { kind: 'queue'; accountId: string; extensionId: string; extensionNumber: string; direction: CallDirection }
  | { kind: 'conference'; accountId: string; accessNumber: string }
  /** A park location's number (its slot) and extension; slot null: the park code, any free location. */
  | { kind: 'park'; accountId: string; slot: string | null; extensionId: string | null }
  /** `*58` + an extension: the call ringing there, for a member of one of its pickup groups. */
  | { kind: 'pickup'; accountId: string; target: string | null; targetExtensionId: string | null }
  | { kind: 'page'; accountId: string; extensionId: string; extensionNumber: string }
  /** A shared line's extension (SL-01, SL-07): its devices ring together, with its hours, greeting, blocked callers and voicemail. */
  | { kind: 'shared_line'; accountId: string; extensionId: string; extensionNumber: string; direction: CallDirection }
  /** A monitoring code + an extension (MON-01): the call that extension is on, listened to, whispered to, barged into or taken over. */
  | { kind: 'monitor'; accountId: string; mode: MonitorMode; target: string; targetExtensionId: string }
  | { kind: 'announcement'; accountId: string; extensionId: string; extensionNumber: string; direction: CallDirection }
  /** The caller's own mailbox, reached by phone (`*86`, or their own extension from their own phone): PIN, then its menu. */
  | MailboxDestination
  /** An agent's keypad code (`*45` log in, `*46` log out): of the queue numbered `queueNumber`, or of all its queues (null). */
  | { kind: 'queue_login'; accountId: string; extensionId: string; queueNumber: string | null; accepting: boolean }
  | RejectDestination;

export type CallDirection = 'internal' | 'inbound';

/**
 * Why a call goes to a mailbox: a message-only extension (inventory 2,
 * special extensions), or a user's answering rule (no answer, busy, DND).
 */
export type VoicemailReason = 'message_only' | 'no_answer' | 'busy' | 'dnd' | 'rule';

export interface MailboxDestination {
  kind: 'mailbox';
  accountId: string;
  /** The caller's extension: its mailbox is the one listened to. */
  extensionId: string;
}

export interface ExtensionDestination {
  kind: 'extension';
  accountId: string;
  extensionId: string;
  extensionNumber: string;
  direction: CallDirection;
}

export interface TrunkTarget {
  id: string;
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
  username: string | null;
  passwordSealed: string | null;
  /** The number as the carrier wants it in the Request-URI and To. */
  dialString: string;
}

export interface PstnDestination {
  kind: 'pstn';
  accountId: string;
  e164: string;
  emergency: boolean;
  trunk: TrunkTarget;
  callerId: { number: string | null; name: string | null };
  /**
   * A call forwarded to this number (a user's ring plan): the account's number it is forwarded from,
   * asserted to the carrier and given as the Diversion (calls/pstn-callee.ts); callerId is then the original caller.
   */
  forwardedFrom?: string | null;
}

export interface RejectDestination {
  kind: 'reject';
  status: number;
  reason: string;
  result: CallResult;
}

export type DestinationKind = Destination['kind'];

export const reject = (status: number, reason: string, result: CallResult): RejectDestination => ({ kind: 'reject', status, reason, result });
