import type { ConferenceRole, ConferenceSettings } from '@carillon/domain';

/** What an access code entered on the bridge opened. */
export type CodeCheck =
  | { kind: 'found'; hostExtensionId: string; role: ConferenceRole; settings: ConferenceSettings }
  | { kind: 'wrong' }
  /** This caller has entered too many wrong codes on the account's bridge lately (across calls): no code is looked at. */
  | { kind: 'limited' };

/** What the conference application reads of the accounts (calls/conference-access-source.ts implements it over @carillon/core/conference and Redis). */
export interface ConferenceAccess {
  /** Checks a code entered by `caller` (their number, or 'anonymous') on the account's bridge, counting a wrong one against them. */
  tryCode(accountId: string, caller: string, code: string): Promise<CodeCheck>;
}
