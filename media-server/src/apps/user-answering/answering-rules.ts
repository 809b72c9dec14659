import type { DndStatus, UserAnswering } from '@carillon/domain';

/** A user's answering as a call to their extension reads it. */
export interface ExtensionUserAnswering {
  answering: UserAnswering;
  /** The zone the hours and rules are read in: the user's, else the account's. */
  timeZone: string;
  dnd: DndStatus;
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
