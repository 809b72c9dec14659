import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';

/** A prompt of the account's prompts library by its unique name (PR-01), as a file under DATA_DIR; null when it is not there (or there is no DATA_DIR). */
export async function libraryPromptFile(db: Kysely<Database>, dataDir: string | null, accountId: string, name: string): Promise<string | null> {
  if (!dataDir) return null;
  const row = await db.selectFrom('ivr_prompts').select('file').where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
  return row ? path.join(dataDir, row.file) : null;
}
