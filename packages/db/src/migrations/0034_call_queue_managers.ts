import { sql, type Kysely } from 'kysely';

/**
 * Call queue managers (issue 15; inventory 2 CQ-02 step 2): users who manage a queue, each with Full
 * Access (the queue's settings and members) or Members Only (its members alone). A queue keeps at
 * least one Full Access manager once it has managers (checked on write, in core). The managers' PIN
 * of step 2 ("PIN" / "Reenter PIN") is one per queue, kept as a hash beside its settings.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('call_queues').addColumn('manager_pin_hash', 'text').execute();
  await db.schema
    .createTable('call_queue_managers')
    .addColumn('queue_extension_id', 'uuid', (c) => c.notNull().references('call_queues.extension_id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('permission', 'text', (c) => c.notNull().check(sql`permission in ('full', 'members_only')`))
    .addPrimaryKeyConstraint('call_queue_managers_pk', ['queue_extension_id', 'user_id'])
    .execute();
  await db.schema.createIndex('call_queue_managers_user_idx').on('call_queue_managers').columns(['account_id', 'user_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('call_queue_managers').ifExists().execute();
  await db.schema.alterTable('call_queues').dropColumn('manager_pin_hash').execute();
}
