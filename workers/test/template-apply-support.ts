import { randomUUID } from 'node:crypto';
import type { Db } from '@carillon/db';
import type { SeededAccount } from './recording-export-support.ts';

/** `count` Standard users on extensions 2000…, inserted in batches as an import would; returns their ids in order. */
export async function addManyUsers(db: Db, a: SeededAccount, count: number): Promise<string[]> {
  const role = await db.selectFrom('roles').select('id').where('key', '=', 'standard').executeTakeFirstOrThrow();
  const ids: string[] = [];
  for (let start = 0; start < count; start += 100) {
    const n = Math.min(100, count - start);
    const numbers = Array.from({ length: n }, (_, i) => String(2000 + start + i));
    const exts = await db
      .insertInto('extensions')
      .values(numbers.map((number) => ({ account_id: a.accountId, site_id: a.siteId, number, type: 'user' as const, status: 'activated' as const })))
      .returning(['id', 'number'])
      .execute();
    const tag = randomUUID().slice(0, 6);
    const users = await db
      .insertInto('users')
      .values(exts.map((e) => ({ account_id: a.accountId, extension_id: e.id, role_id: role.id, first_name: 'User', last_name: e.number, email: `u${e.number}-${tag}@example.com`, setup_progress: JSON.stringify({}), language: 'en' as const, time_zone: 'America/New_York', time_format: '12h' as const, job_title: `Own title ${e.number}` })))
      .returning('id')
      .execute();
    ids.push(...users.map((u) => u.id));
  }
  return ids;
}
