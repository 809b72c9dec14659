import type { ConferenceRole, ConferenceSettings } from '@carillon/domain';

/** What the conference application reads of the accounts (calls/conference-access-source.ts implements it over @carillon/core/conference). */
export interface ConferenceAccess {
  /** Whose conference an access code opens, in which role, with the host's settings; null for no such code in the account. */
  byCode(accountId: string, code: string): Promise<{ hostExtensionId: string; role: ConferenceRole; settings: ConferenceSettings } | null>;
}
