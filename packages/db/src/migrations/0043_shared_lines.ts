import { sql, type Kysely } from 'kysely';

/**
 * Shared lines (issue 15 point 3; inventory 2 §12, SL-01…SL-09). A shared line is an extension of type
 * `shared_lines` (its number, name, site and status stay in `extensions`, its direct numbers in
 * `phone_numbers` as for any extension); this migration adds its settings (hours, call handling, greeting,
 * hold music, blocked callers, outbound caller ID, messages: the domain's `SharedLineSettings` as JSON,
 * validated by zod on every write and read) and its devices in order. A device rings for one shared
 * line at most (the unique index): its outbound caller ID (SL-08) and the line a held call is picked up
 * on (SL-01) must not be ambiguous. The bound of 16 devices is checked by core, not by a constraint.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('shared_lines')
    .addColumn('extension_id', 'uuid', (c) => c.primaryKey().references('extensions.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('settings', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('shared_lines_account_idx').on('shared_lines').column('account_id').execute();

  await db.schema
    .createTable('shared_line_devices')
    .addColumn('line_extension_id', 'uuid', (c) => c.notNull().references('shared_lines.extension_id').onDelete('cascade'))
    .addColumn('device_id', 'uuid', (c) => c.notNull().references('devices.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull().check(sql`position >= 0`))
    .addPrimaryKeyConstraint('shared_line_devices_pk', ['line_extension_id', 'device_id'])
    .execute();
  await db.schema.createIndex('shared_line_devices_device_idx').on('shared_line_devices').column('device_id').unique().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('shared_line_devices').ifExists().execute();
  await db.schema.dropTable('shared_lines').ifExists().execute();
}
