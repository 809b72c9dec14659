import type { PinRule } from '@carillon/domain';
import type { ExtensionDestination, PstnDestination } from '../../routing/destination.ts';

/**
 * The port through which the mailbox application (a user listening to their
 * messages by phone, `*86`) reaches the mailbox: the PIN check with its
 * lockout, the new and saved messages and what the caller does with each,
 * the user-hours greeting, the user's recorded name and the PIN. `calls/mailbox-phone-access.ts`
 * implements it (database, Redis, disk), through the same core functions as
 * the web pages.
 */
export interface MailboxAccess {
  /**
   * Whether the mailbox has someone to sign in as: a user with a PIN. A message-only extension's or a
   * queue's mailbox has none, so a caller pressing `*` at its greeting is not offered a PIN prompt.
   */
  hasPin(accountId: string, extensionId: string): Promise<boolean>;
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
  /** The mailbox's saved messages (heard, not in the trash), newest first, as the web inbox lists them. */
  savedMessages(accountId: string, extensionId: string): Promise<PhoneMessage[]>;
  /**
   * Sets the mailbox user's PIN, entered twice: refused with the shared PIN rules it breaks
   * (credential-rules.ts) or 'mismatch'; stored hashed and audited otherwise.
   */
  changePin(accountId: string, extensionId: string, pin: string, pinConfirm: string): Promise<PinChange>;
  /** Longest greeting the caller may record (the limit of an uploaded one). */
  readonly greetingMaxSeconds: number;
  /** The user-hours greeting's audio file when it is the user's own; null when it is the default greeting. */
  userHoursGreeting(accountId: string, extensionId: string): Promise<string | null>;
  /**
   * Makes a recording (a WAV from `CallHandle.record`, taken over: removed in every case) the user-hours
   * greeting, through the same check and storage as an uploaded greeting. False when it is refused
   * (no sound, too long).
   */
  setUserHoursGreeting(accountId: string, extensionId: string, recording: string): Promise<boolean>;
  /** The user-hours greeting is the default one again. */
  resetUserHoursGreeting(accountId: string, extensionId: string): Promise<void>;
  /** Longest name the caller may record (the limit of an uploaded one). */
  readonly nameMaxSeconds: number;
  /**
   * Makes a recording (a WAV from `CallHandle.record`, taken over: removed in every case) the user's
   * recorded name, which the default greeting and the directory play, through the same check and
   * storage as one recorded in the browser. False when it is refused (no sound, too long).
   */
  setNameRecording(accountId: string, extensionId: string, recording: string): Promise<boolean>;
}

export type PinChange = { ok: true } | { ok: false; rules: (PinRule | 'mismatch')[] };

/**
 * Where calling back a message's sender goes (calls/ implements it over the dial plan): as if the
 * mailbox's user had dialled the number from their phone, within their calling rights and with their
 * caller ID. Null when it cannot be called (no route, not allowed, not a person to bridge to).
 */
export interface MailboxCallBack {
  destinationFor(mailbox: { accountId: string; extensionId: string }, number: string): Promise<ExtensionDestination | PstnDestination | null>;
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
