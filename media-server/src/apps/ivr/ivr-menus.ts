import type { CompanyRule, CountryCode, DirectoryEntry, IvrConfig } from '@carillon/domain';
import type { PstnDestination } from '../../routing/destination.ts';
import type { CallHandle } from '../call-handle.ts';

/**
 * The port through which the IVR application reads an account's auto-receptionist: its menus and
 * settings (packages/core/src/ivr), the extensions its keys name, and the library's prompts.
 * `calls/ivr-menus-source.ts` implements it; applications cannot reach the database or the disk
 * (ARCHITECTURE.md: `apps/` imports only `routing/` and `cache/`).
 */
export interface IvrMenus {
  /** The account's IVR as a call walks it; null when the account is unknown. */
  ofAccount(accountId: string): Promise<AccountIvr | null>;
  /** The audio file (absolute) of a library prompt, by its unique name; null when it is no longer in the library. */
  promptFile(accountId: string, name: string): Promise<string | null>;
  /**
   * The recorded names (absolute audio files) of the users at these extension numbers, by number
   * (issue 14: the directory plays "name recordings where they exist and TTS otherwise"); a user
   * without one is not in the map.
   */
  nameRecordings(accountId: string, extensions: readonly string[]): Promise<ReadonlyMap<string, string>>;
  /**
   * A key's external transfer from menu `menuId` (null: the company number's entry menu) to `number`, as
   * an outside destination through the account's trunk within the account's calling permissions, with
   * the caller's ID where the trunk allows it (routing/dial-plan.ts `externalTransferDestination`); null
   * when the account may not call it (or has no trunk).
   */
  externalRoute(from: { accountId: string; menuId: string | null }, number: string, caller: CallHandle['caller']): Promise<PstnDestination | null>;
}

export interface AccountIvr {
  config: IvrConfig;
  /** The account's IANA time zone (AR-03): the company hours and the custom rules' dates are read on its wall clock. */
  timeZone: string;
  /** The company's name, as the default company greeting says it (X-01, AR-01). */
  companyName: string;
  /** The account's country: numbers a call carries in national form are read as E.164 by it. */
  country: CountryCode;
  /** The company's custom answering rules (RULE-01), in the order they are tried, disabled ones included. */
  customRules: readonly CompanyRule[];
  /** The account's extensions by number: what a key's target is. */
  extensions: ReadonlyMap<string, IvrTarget>;
  /** The menus' extension ids to their numbers (a destination names a menu by its extension id). */
  menuNumbers: ReadonlyMap<string, string>;
  /**
   * The users a caller can find by name (the dial-by-name directory): every enabled extension held by a
   * user, with the user's first and last names; the directory's settings pick among them.
   */
  directory: readonly DirectoryEntry[];
  /** The extension numbers a caller may dial during a menu's prompt (issue 14; the domain's `isDialableFromIvr`). */
  dialable: ReadonlySet<string>;
}

export interface IvrTarget {
  extensionId: string;
  number: string;
  /**
   * What connecting to it does: `user` rings a person's phones, `mailbox` takes a message (a
   * message-only extension), `transfer` hands the call on to the extension's own application (a call
   * queue, an announcement: `CallHandle.transfer`), `unsupported` is not reachable from a menu (paging,
   * park), `disabled` is not reachable at all.
   */
  reach: 'user' | 'mailbox' | 'transfer' | 'unsupported' | 'disabled';
}
