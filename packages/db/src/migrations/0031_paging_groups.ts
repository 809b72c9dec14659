import type { Kysely } from 'kysely';

/**
 * Paging-only groups (issue 15 point 2; inventory 2 §11 PG-01…PG-03).
 *
 * A paging group is an extension of type 'paging' (its number, name and
 * status Enabled/Disabled live there, so the dial plan reaches it by `*84` +
 * its number like any extension, and a disabled one is refused there); this
 * migration adds the devices that receive its pages (PG-03 "Devices to Receive
 * Page": users' phones and paging devices) and the users, by their
 * extensions, allowed to page it. The bounds on both lists are checked by
 * core (domain's MAX_PAGING_RECEIVERS), not by a constraint.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('paging_group_receivers')
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('paging_extension_id', 'uuid', (c) => c.notNull().references('extensions.id').onDelete('cascade'))
    .addColumn('device_id', 'uuid', (c) => c.notNull().references('devices.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('paging_group_receivers_pk', ['paging_extension_id', 'device_id'])
    .execute();
  await db.schema.createIndex('paging_group_receivers_device_idx').on('paging_group_receivers').columns(['account_id', 'device_id']).execute();

  await db.schema
    .createTable('paging_group_pagers')
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('paging_extension_id', 'uuid', (c) => c.notNull().references('extensions.id').onDelete('cascade'))
    .addColumn('pager_extension_id', 'uuid', (c) => c.notNull().references('extensions.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('paging_group_pagers_pk', ['paging_extension_id', 'pager_extension_id'])
    .execute();
  await db.schema.createIndex('paging_group_pagers_pager_idx').on('paging_group_pagers').columns(['account_id', 'pager_extension_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('paging_group_pagers').ifExists().execute();
  await db.schema.dropTable('paging_group_receivers').ifExists().execute();
}
