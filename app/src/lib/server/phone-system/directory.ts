import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';

/** A user's extension, as the group pages (queues, paging, monitoring) offer it in their pickers. */
export interface UserExtensionChoice {
  extensionId: string;
  number: string;
  name: string;
  /** The extension's site (the pickup page filters members by site, PU-02). */
  siteId: string | null;
}

/** Bounded like every list a page loads: far above the users an account of this product has. */
const MAX_CHOICES = 5000;

/**
 * The account's users that have an extension, by number: the people a queue rings, a manager, a pager, a
 * monitor. Only extensions of type `user` (a queue or a group is never a member of one).
 */
export async function userExtensionChoices(db: Kysely<Database>, accountId: string): Promise<UserExtensionChoice[]> {
  const rows = await db
    .selectFrom('extensions')
    .innerJoin('users', (j) => j.onRef('users.extension_id', '=', 'extensions.id').onRef('users.account_id', '=', 'extensions.account_id'))
    .select(['extensions.id', 'extensions.number', 'extensions.site_id', 'users.first_name', 'users.last_name'])
    .where('extensions.account_id', '=', accountId)
    .where('extensions.type', '=', 'user')
    .orderBy('extensions.number')
    .limit(MAX_CHOICES)
    .execute();
  return rows.map((r) => ({ extensionId: r.id, number: r.number, name: `${r.first_name ?? ''} ${r.last_name ?? ''}`.trim() || r.number, siteId: r.site_id }));
}
