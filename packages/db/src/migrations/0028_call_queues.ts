import { sql, type Kysely } from 'kysely';

/**
 * Call queues (issue 15; inventory 2 §10: CQ-01…CQ-06). A queue is an extension of type `call_queue`
 * (its number and name stay in `extensions`); its settings (distribution, ring time per member, wait
 * limits, exit actions, wrap-up, greeting and hold music) are the domain's `QueueSettings` as JSON,
 * validated by zod on every write and read. Members are users' extensions, in the admin's order, each
 * with its "accepting queue calls" switch for this queue (the agent's log-in); Do Not Disturb "no queue
 * calls" stays on the extension (`extensions.dnd_status`), for every queue at once. Live state (callers
 * waiting, the rotating pointer, members busy or in wrap-up) is in Redis, not here.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('call_queues')
    .addColumn('extension_id', 'uuid', (c) => c.primaryKey().references('extensions.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('settings', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('call_queues_account_idx').on('call_queues').column('account_id').execute();

  await db.schema
    .createTable('call_queue_members')
    .addColumn('queue_extension_id', 'uuid', (c) => c.notNull().references('call_queues.extension_id').onDelete('cascade'))
    .addColumn('member_extension_id', 'uuid', (c) => c.notNull().references('extensions.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull().check(sql`position >= 0`))
    .addColumn('accepting', 'boolean', (c) => c.notNull().defaultTo(true))
    .addPrimaryKeyConstraint('call_queue_members_pk', ['queue_extension_id', 'member_extension_id'])
    .execute();
  await db.schema.createIndex('call_queue_members_member_idx').on('call_queue_members').column('member_extension_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('call_queue_members').ifExists().execute();
  await db.schema.dropTable('call_queues').ifExists().execute();
}
