import { pagingTargets } from '@carillon/core';
import type { Db } from '@carillon/db';
import type { PagingGroups } from '../apps/paging/paging-groups.ts';

/**
 * The paging application's groups, read from the database at each page (one
 * statement each for the pagers and the receivers, scoped to the account): a
 * page is rare enough that a cache would only make a change in the app late.
 */
export function pagingGroupsSource(db: Db): PagingGroups {
  return { targets: (accountId, groupExtensionId) => pagingTargets(db, accountId, groupExtensionId) };
}
