import type { DndStatus, UserAnswering } from '@carillon/domain';
import type { ExtensionDestination, PstnDestination } from '../../routing/destination.ts';
import type { CallHandle } from '../call-handle.ts';

/** A user's answering as a call to their extension reads it. */
export interface ExtensionUserAnswering {
  answering: UserAnswering;
  /** The zone the hours and rules are read in: the user's, else the account's. */
  timeZone: string;
  dnd: DndStatus;
  /**
   * The numbers of the extensions the rules' after-ringing actions hand calls to ("then another
   * extension"), by id, read with the rules; an extension gone since is absent (the call takes a message).
   */
  afterRingingNumbers: Readonly<Record<string, string>>;
}

/**
 * The port through which the user-answering application reads a user's
 * answering rules and call settings (issue 13; stored by the app in
 * answering_rules and user_call_settings). `calls/user-answering-rules.ts`
 * implements it, cached per account and dropped on the account's config change.
 */
export interface AnsweringRulesSource {
  /** The answering of the user whose extension this is; null when no user has it (it rings, then takes a message). */
  ofExtension(accountId: string, extensionId: string): Promise<ExtensionUserAnswering | null>;
}

/**
 * The port through which the application reaches a user's forwarding numbers
 * (routing/dial-plan.ts `forwardingDestination`, over the account's cached
 * configuration): the number as an outside destination through the account's
 * trunk, with the caller's ID kept; null when it cannot go (no trunk, not
 * within the user's calling rights, a number of the account itself).
 */
export interface ForwardingRoutes {
  forwardTo(from: ExtensionDestination, e164: string, caller: CallHandle['caller']): Promise<PstnDestination | null>;
}
