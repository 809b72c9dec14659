import { spellDigits } from '@carillon/domain';
import type { CallHandle } from '../call-handle.ts';
import type { VoicemailReason } from '../../routing/destination.ts';

/**
 * The port through which applications reach mailboxes: what a mailbox is set
 * to, and storing a message. Applications cannot reach the database, Redis or
 * the disk (ARCHITECTURE.md: `apps/` imports only `routing/` and `cache/`);
 * `calls/voicemail-deposits.ts` implements it.
 */
export interface Mailboxes {
  /**
   * The mailbox (an extension) as a caller meets it: defaults when it has no settings row.
   * `greetingId` is the greeting of the answering rule that sent the call here (issue 13): when
   * it is a greeting of the mailbox's user, `greetingFile` is its file.
   */
  settings(accountId: string, extensionId: string, greetingId?: string): Promise<MailboxSettings>;
  /**
   * Stores a recorded message: its file under DATA_DIR, its row, the
   * `deposited` event, and its transcription when the mailbox asks for one.
   */
  deposit(message: NewVoicemail): Promise<{ messageId: string }>;
  /** Drops a recording that is not kept (too short). */
  discard(recordingPath: string): Promise<void>;
  /**
   * The file of one of the extension's user's own recordings (an uploaded or recorded greeting, by its
   * id), when it is theirs and its file is there; null otherwise (the caller then plays the default).
   */
  userRecording(accountId: string, extensionId: string, audioId: string): Promise<string | null>;
  /**
   * The mailbox's owner signing in when a caller presses `*` during its greeting (apps/mailbox); absent
   * where mailboxes by phone are not enabled. See `withOwnerSignIn`.
   */
  readonly ownerSignIn?: MailboxSignIn;
}

/**
 * Takes an answered call into the mailbox's PIN prompt and menus; resolves when the caller is done
 * (true), or false at once when the mailbox has no PIN to sign in with.
 */
export type MailboxSignIn = (call: CallHandle, mailbox: { accountId: string; extensionId: string }) => Promise<boolean>;

/** The same mailboxes, with the owner's sign-in at the greeting. */
export function withOwnerSignIn(mailboxes: Mailboxes, ownerSignIn: MailboxSignIn): Mailboxes {
  return {
    settings: (accountId, extensionId, greetingId) => mailboxes.settings(accountId, extensionId, greetingId),
    deposit: (message) => mailboxes.deposit(message),
    discard: (recordingPath) => mailboxes.discard(recordingPath),
    userRecording: (accountId, extensionId, audioId) => mailboxes.userRecording(accountId, extensionId, audioId),
    ownerSignIn,
  };
}

export interface MailboxSettings {
  /** The extension's name, for the default greeting; null when it has none. */
  extensionName: string | null;
  /** The custom greeting (absolute path of a media file), or null for the default one. */
  greetingFile: string | null;
  /**
   * The recorded name of the extension's user (absolute path of a media file), which the default
   * greeting plays in place of the spoken name or number; null when there is none.
   */
  nameRecordingFile: string | null;
  maxMessageSeconds: number;
  maxMessages: number;
  /** Messages held now, not counting those in the trash. */
  messageCount: number;
}

export interface NewVoicemail {
  accountId: string;
  mailboxExtensionId: string;
  /** The call's record (calls.id), if written. */
  callId: string | null;
  fromNumber: string | null;
  fromName: string | null;
  toNumber: string;
  reason: VoicemailReason;
  /** The recording (a mono WAV), where `CallHandle.record` left it. */
  recordingPath: string;
  durationMs: number;
}

/** How a mailbox is named in a default greeting. */
export function mailboxName(settings: MailboxSettings, extensionNumber: string, language: 'en' | 'fr'): string {
  if (settings.extensionName) return settings.extensionName;
  return language === 'fr' ? `le poste ${spellDigits(extensionNumber)}` : `extension ${spellDigits(extensionNumber)}`;
}
