/**
 * The port through which the mailbox application (a user listening to their
 * messages by phone, `*86`) reaches the mailbox: the PIN check with its
 * lockout, the new messages, and what the caller does with each.
 * `calls/mailbox-phone-access.ts` implements it (database, Redis, disk).
 */
export interface MailboxAccess {
  /** Whether too many wrong PINs have locked the mailbox (for 15 minutes). */
  isLocked(accountId: string, extensionId: string): Promise<boolean>;
  /**
   * Checks the PIN against the mailbox user's own: 'ok', or 'wrong' (counted against the mailbox), or
   * 'locked' when this failure (or an earlier one) locked it.
   */
  checkPin(accountId: string, extensionId: string, pin: string): Promise<PinCheck>;
  /** The mailbox's new messages (not heard, not in the trash), oldest first. */
  newMessages(accountId: string, extensionId: string): Promise<PhoneMessage[]>;
  /** Marks a message heard (kept), and announces the change. */
  save(accountId: string, extensionId: string, messageId: string): Promise<void>;
  /** Moves a message to the trash, and announces the change. */
  trash(accountId: string, extensionId: string, messageId: string): Promise<void>;
}

export type PinCheck = 'ok' | 'wrong' | 'locked';

export interface PhoneMessage {
  id: string;
  /** The message's audio (absolute path of its WAV). */
  audioFile: string;
  /** Who left it, as their number was presented; null when withheld. */
  fromNumber: string | null;
}

/** Wrong PINs per mailbox before it locks, counted over LOCKOUT_SECONDS; and how long it stays locked (issue 13). */
export const PIN_FAILURES_BEFORE_LOCK = 5;
export const LOCKOUT_SECONDS = 15 * 60;
