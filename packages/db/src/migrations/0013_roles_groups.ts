import { sql, type Kysely } from 'kysely';

/**
 * Custom roles' scope and user groups (seed 000 "Rôles et autorisations",
 * "Groupes d'utilisateurs"). A role's scope says whose users its holders
 * administer: the whole account, only the users of some sites (the guide's
 * "Role Domain"), or only the members of the user groups they manage.
 * Groups are flat; a user may belong to several; the manager is a member.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('roles')
    .addColumn('scope', 'text', (c) => c.notNull().defaultTo('account').check(sql`scope in ('account', 'sites', 'groups')`))
    .execute();
  await db.schema
    .createTable('role_sites')
    .addColumn('role_id', 'uuid', (c) => c.notNull().references('roles.id').onDelete('cascade'))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('sites.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('role_sites_pk', ['role_id', 'site_id'])
    .execute();
  await db.schema.createIndex('role_sites_site_idx').on('role_sites').column('site_id').execute();

  await db.schema
    .createTable('user_groups')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) between 1 and 100`))
    .addColumn('description', 'text')
    .addColumn('manager_user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index user_groups_account_name_unique on user_groups (account_id, lower(name))`.execute(db);
  await db.schema.createIndex('user_groups_manager_idx').on('user_groups').column('manager_user_id').execute();
  await db.schema
    .createTable('user_group_members')
    .addColumn('group_id', 'uuid', (c) => c.notNull().references('user_groups.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('user_group_members_pk', ['group_id', 'user_id'])
    .execute();
  await db.schema.createIndex('user_group_members_user_idx').on('user_group_members').column('user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('user_group_members').execute();
  await db.schema.dropTable('user_groups').execute();
  await db.schema.dropTable('role_sites').execute();
  await db.schema.alterTable('roles').dropColumn('scope').execute();
}
