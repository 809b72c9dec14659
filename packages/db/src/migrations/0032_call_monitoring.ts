import { sql, type Kysely } from 'kysely';

/**
 * Call monitoring groups (issue 15 point 6; inventory 2 §14 MON-01, MON-02).
 *
 * A group names who can monitor and who can be monitored: a monitor of a group
 * may listen to, whisper to, barge into or take over the calls of the group's
 * monitored users, by keypad code from their phone. A user may be both a
 * monitor and monitored in one group (MON-02, not forbidden), so a member row
 * carries its role and an extension appears at most once per role.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('monitoring_groups')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) between 1 and 60`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('monitoring_groups_account_idx').on('monitoring_groups').columns(['account_id', 'name']).execute();

  await db.schema
    .createTable('monitoring_group_members')
    .addColumn('group_id', 'uuid', (c) => c.notNull().references('monitoring_groups.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('extension_id', 'uuid', (c) => c.notNull().references('extensions.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('monitor', 'monitored')`))
    .addPrimaryKeyConstraint('monitoring_group_members_pk', ['group_id', 'role', 'extension_id'])
    .execute();
  // The call side's question: the groups where this extension monitors, joined to those where the target is monitored.
  await db.schema.createIndex('monitoring_group_members_extension_idx').on('monitoring_group_members').columns(['account_id', 'extension_id', 'role']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('monitoring_group_members').ifExists().execute();
  await db.schema.dropTable('monitoring_groups').ifExists().execute();
}
