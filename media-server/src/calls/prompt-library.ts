import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import { AccountCache } from '../cache/account-cache.ts';

/**
 * Each account's prompts library (PR-01: prompts by their unique name) as files under DATA_DIR, read with
 * one statement per account and kept in memory: a prompt is played by IVR menus, queues and shared lines
 * on every call, and the app announces every change of the library (config subject 'ivr', core's
 * ivr-prompts.ts), on which the call engine drops the account as it drops its other caches.
 */
export class PromptLibrary {
  private readonly files: AccountCache<ReadonlyMap<string, string>>;
  private readonly dataDir: string | null;

  constructor(db: Kysely<Database>, dataDir: string | null) {
    this.dataDir = dataDir;
    this.files = new AccountCache(async (accountId) => {
      const rows = await db.selectFrom('ivr_prompts').select(['name', 'file']).where('account_id', '=', accountId).execute();
      return new Map(rows.map((r) => [r.name, r.file]));
    });
  }

  /** The prompt's file; null when the library has no prompt of that name (or there is no DATA_DIR). */
  async file(accountId: string, name: string): Promise<string | null> {
    if (!this.dataDir) return null;
    const file = (await this.files.get(accountId))?.get(name);
    return file === undefined ? null : path.join(this.dataDir, file);
  }

  invalidate(accountId: string): void {
    this.files.invalidate(accountId);
  }

  /** Statements run so far (one per account and change), for tests. */
  get loads(): number {
    return this.files.loads;
  }
}
