import type { Db } from '@carillon/db';

/** Extensions a rule may send unanswered calls to: the account's others, bounded for a select list. */
export async function transferExtensions(db: Db, accountId: string, ownExtensionId: string | null): Promise<{ id: string; number: string; name: string | null }[]> {
  let q = db
    .selectFrom('extensions')
    .leftJoin('users', (j) => j.onRef('users.extension_id', '=', 'extensions.id').onRef('users.account_id', '=', 'extensions.account_id'))
    .select(['extensions.id', 'extensions.number', (eb) => eb.fn.coalesce('extensions.name', eb.fn<string>('concat_ws', [eb.val(' '), 'users.first_name', 'users.last_name'])).as('name')])
    .where('extensions.account_id', '=', accountId)
    .where('extensions.status', 'in', ['activated', 'not_activated'])
    .orderBy('extensions.number')
    .limit(1000);
  if (ownExtensionId) q = q.where('extensions.id', '!=', ownExtensionId);
  return q.execute();
}
