import fs from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { isDialableFromIvr, isTimeZone, type CompanyRule, type CountryCode, type DirectoryEntry, type IvrConfig } from '@carillon/domain';
import { listCompanyRules, loadIvrConfig } from '@carillon/core/ivr';
import type { Database } from '@carillon/db';
import type { AccountIvr, IvrMenus, IvrTarget } from '../apps/ivr/ivr-menus.ts';
import type { AccountConfigCache } from '../routing/account-config-cache.ts';
import type { PstnDestination } from '../routing/destination.ts';
import { externalTransferDestination } from '../routing/dial-plan.ts';
import type { RoutingExtension } from '../routing/account-config.ts';
import { AccountCache } from '../cache/account-cache.ts';
import { PromptLibrary } from './prompt-library.ts';

/**
 * Accounts' IVR for the IVR application: the menus and settings read with core's `loadIvrConfig`, and the
 * company's custom answering rules (`listCompanyRules`), kept in memory per account (the app announces every change of them as config subject 'ivr'; the call
 * engine drops the account on any change, as it does its routing snapshot), the extensions from that
 * routing snapshot, the library's prompt files (the call engine's `PromptLibrary`, dropped on the same
 * changes) and the users' recorded names under DATA_DIR (read when played: a new recording needs no
 * announcement).
 */
export class IvrMenusSource implements IvrMenus {
  private readonly configs: AccountCache<CachedIvr>;
  private readonly db: Kysely<Database>;
  private readonly accounts: AccountConfigCache;
  private readonly dataDir: string | null;
  private readonly prompts: PromptLibrary;

  constructor(db: Kysely<Database>, accounts: AccountConfigCache, dataDir: string | null, prompts = new PromptLibrary(db, dataDir)) {
    this.db = db;
    this.accounts = accounts;
    this.dataDir = dataDir;
    this.prompts = prompts;
    this.configs = new AccountCache(async (accountId) => {
      const [config, timeZone, rules] = await Promise.all([loadIvrConfig(this.db, accountId), this.timeZone(accountId), listCompanyRules(this.db, accountId)]);
      return { config, timeZone, customRules: rules.map(({ position: _position, ...rule }) => rule) };
    }, { maxAccounts: 2_000 });
  }

  async ofAccount(accountId: string): Promise<AccountIvr | null> {
    const account = await this.accounts.get(accountId);
    if (!account) return null;
    const cached = await this.configs.get(accountId);
    if (!cached) return null;
    const { config, timeZone, customRules } = cached;
    const extensions = new Map<string, IvrTarget>();
    const menuNumbers = new Map<string, string>();
    const directory: DirectoryEntry[] = [];
    const dialable = new Set<string>();
    for (const ext of account.extensions.values()) {
      const reach = reachOf(ext);
      extensions.set(ext.number, { extensionId: ext.id, number: ext.number, reach });
      if (isDialableFromIvr(ext)) dialable.add(ext.number);
      if (ext.type === 'ivr_menu') menuNumbers.set(ext.id, ext.number);
      const user = account.users.get(ext.id);
      if (user && reach === 'user') directory.push({ extension: ext.number, firstName: user.firstName, lastName: user.lastName });
    }
    return { config, timeZone, companyName: account.account.companyName, country: account.account.country as CountryCode, customRules, extensions, menuNumbers, directory, dialable };
  }

  promptFile(accountId: string, name: string): Promise<string | null> {
    return this.prompts.file(accountId, name);
  }

  async nameRecordings(accountId: string, extensions: readonly string[]): Promise<ReadonlyMap<string, string>> {
    const found = new Map<string, string>();
    if (!this.dataDir || extensions.length === 0) return found;
    const rows = await this.db
      .selectFrom('user_name_recordings as n')
      .innerJoin('users as u', (j) => j.onRef('u.id', '=', 'n.user_id').onRef('u.account_id', '=', 'n.account_id'))
      .innerJoin('extensions as e', (j) => j.onRef('e.id', '=', 'u.extension_id').onRef('e.account_id', '=', 'u.account_id'))
      .select(['e.number', 'n.file'])
      .where('n.account_id', '=', accountId)
      .where('e.number', 'in', [...extensions])
      .execute();
    const root = path.resolve(this.dataDir);
    for (const row of rows) {
      const file = path.resolve(root, row.file);
      // A path that would leave DATA_DIR is not played, nor a file that is gone: TTS says the name instead.
      if (file.startsWith(root + path.sep) && (await fs.stat(file).catch(() => null))) found.set(row.number, file);
    }
    return found;
  }

  async externalRoute(from: { accountId: string; menuId: string | null }, number: string, caller: { number: string | null; name: string | null; extensionId: string | null }): Promise<PstnDestination | null> {
    return externalTransferDestination(await this.accounts.get(from.accountId), from, number, caller);
  }

  invalidate(accountId: string): void {
    this.configs.invalidate(accountId);
  }

  /**
   * The account's regional time zone (AR-03). Kept with the IVR: an account settings change announces a
   * config change too, which drops the whole entry. A zone this runtime does not know reads as UTC rather
   * than failing every call to the company number.
   */
  private async timeZone(accountId: string): Promise<string> {
    const row = await this.db.selectFrom('accounts').select('time_zone').where('id', '=', accountId).executeTakeFirst();
    return row && isTimeZone(row.time_zone) ? row.time_zone : 'UTC';
  }
}

interface CachedIvr {
  config: IvrConfig;
  timeZone: string;
  customRules: CompanyRule[];
}

function reachOf(ext: RoutingExtension): IvrTarget['reach'] {
  if (ext.status === 'disabled') return 'disabled';
  switch (ext.type) {
    case 'user':
    case 'limited':
    case 'shared_lines':
      return 'user';
    case 'message_only':
      return 'mailbox';
    case 'call_queue':
    case 'announcement_only':
      return 'transfer';
    default:
      return 'unsupported';
  }
}
