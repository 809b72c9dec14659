import type { Db } from '@carillon/db';

/** One user of the account with their extension and role (the Users list itself is users/list.ts). */
export function getUser(db: Db, accountId: string, userId: string) {
  return baseQuery(db, accountId).where('users.id', '=', userId).executeTakeFirst();
}

function baseQuery(db: Db, accountId: string) {
  return db
    .selectFrom('users')
    .innerJoin('extensions', 'extensions.id', 'users.extension_id')
    .innerJoin('roles', 'roles.id', 'users.role_id')
    .select([
      'users.id',
      'users.first_name as firstName',
      'users.last_name as lastName',
      'users.email',
      'users.email_login as emailLogin',
      'users.language',
      'extensions.id as extensionId',
      'extensions.number as extension',
      'extensions.status',
      'extensions.site_id as siteId',
      'roles.key as roleKey',
      'roles.name as roleName',
    ])
    .where('users.account_id', '=', accountId)
    .where('extensions.account_id', '=', accountId);
}
