import { sql, type Kysely } from 'kysely';

/**
 * Park locations and directed call pickup groups (issue 15 points 4 and 5;
 * inventory 2 §13 PK-01…PK-04, §15 PU-01…PU-02).
 *
 * A park location is an extension of type 'park_location' (its number, name
 * and status live there, so the dial plan reaches it like any extension);
 * this migration adds who may use it. Only members park to or retrieve from a
 * location. The limit of 100 locations per account is checked by core under a
 * lock on the account row (a count, not a constraint).
 *
 * A pickup group is a set of extensions whose members may pick up each other's
 * ringing calls with `*58` + extension; members may come from any site.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('park_location_members')
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('park_extension_id', 'uuid', (c) => c.notNull().references('extensions.id').onDelete('cascade'))
    .addColumn('member_extension_id', 'uuid', (c) => c.notNull().references('extensions.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('park_location_members_pk', ['park_extension_id', 'member_extension_id'])
    .execute();
  await db.schema.createIndex('park_location_members_member_idx').on('park_location_members').columns(['account_id', 'member_extension_id']).execute();

  await db.schema
    .createTable('pickup_groups')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('site_id', 'uuid', (c) => c.references('sites.id').onDelete('set null'))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) between 1 and 60`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('pickup_groups_account_idx').on('pickup_groups').columns(['account_id', 'name']).execute();

  await db.schema
    .createTable('pickup_group_members')
    .addColumn('group_id', 'uuid', (c) => c.notNull().references('pickup_groups.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('extension_id', 'uuid', (c) => c.notNull().references('extensions.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('pickup_group_members_pk', ['group_id', 'extension_id'])
    .execute();
  await db.schema.createIndex('pickup_group_members_extension_idx').on('pickup_group_members').columns(['account_id', 'extension_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('pickup_group_members').ifExists().execute();
  await db.schema.dropTable('pickup_groups').ifExists().execute();
  await db.schema.dropTable('park_location_members').ifExists().execute();
}
