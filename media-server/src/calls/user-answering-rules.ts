import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import { readUserAnswering } from '@carillon/core';
import type { AnsweringRulesSource, ExtensionUserAnswering } from '../apps/user-answering/answering-rules.ts';
import type { AccountConfig } from '../routing/account-config.ts';

/** Users' answering held at once, over all accounts; past it the cache starts again (bounded memory). */
const MAX_CACHED_USERS = 10_000;

/**
 * Users' answering rules for the user-answering application, read with
 * core's `readUserAnswering` (the document the app saves, with its defaults)
 * and kept in memory per account: the app announces every change of them
 * (config subject 'answering_rules', and 'extensions' for DND), and the call
 * engine drops the account on any change, as it does its routing snapshot.
 */
export class UserAnsweringRules implements AnsweringRulesSource {
  private readonly byAccount = new Map<string, Map<string, Promise<ExtensionUserAnswering | null>>>();
  private size = 0;

  private readonly db: Kysely<Database>;
  /** The account's routing snapshot (the call engine's cache): it holds every extension's number by id. */
  private readonly accountConfig: (accountId: string) => Promise<AccountConfig | null>;

  constructor(db: Kysely<Database>, accountConfig: (accountId: string) => Promise<AccountConfig | null>) {
    this.db = db;
    this.accountConfig = accountConfig;
  }

  ofExtension(accountId: string, extensionId: string): Promise<ExtensionUserAnswering | null> {
    let users = this.byAccount.get(accountId);
    const cached = users?.get(extensionId);
    if (cached) return cached;
    if (this.size >= MAX_CACHED_USERS) this.clear();
    if (!users) {
      users = new Map();
      this.byAccount.set(accountId, users);
    }
    const loading = this.load(accountId, extensionId);
    users.set(extensionId, loading);
    this.size++;
    // A failed read is not kept: the next call tries again.
    loading.catch(() => this.byAccount.get(accountId)?.get(extensionId) === loading && this.invalidate(accountId));
    return loading;
  }

  invalidate(accountId: string): void {
    this.size -= this.byAccount.get(accountId)?.size ?? 0;
    this.byAccount.delete(accountId);
  }

  private clear(): void {
    this.byAccount.clear();
    this.size = 0;
  }

  private async load(accountId: string, extensionId: string): Promise<ExtensionUserAnswering | null> {
    const user = await this.db.selectFrom('users').select('id').where('account_id', '=', accountId).where('extension_id', '=', extensionId).executeTakeFirst();
    if (!user) return null;
    const view = await readUserAnswering(this.db, accountId, user.id);
    if (!view) return null;
    const { answering } = view;
    // The hand-off extensions' numbers come from the routing snapshot (dropped on the same changes as this cache).
    const config = await this.accountConfig(accountId);
    const afterRingingNumbers: Record<string, string> = {};
    for (const rule of [answering.inHours, answering.afterHours, ...answering.custom]) {
      if (rule.afterRinging.type !== 'extension') continue;
      const extension = config?.extensions.get(rule.afterRinging.extensionId);
      if (extension) afterRingingNumbers[extension.id] = extension.number;
    }
    return { answering, timeZone: view.timeZone, dnd: view.dnd ?? 'take_all_calls', afterRingingNumbers };
  }
}
