import { sql, type Kysely } from 'kysely';

/**
 * Exports of call recordings (seed 000 "Téléchargement du journal des appels
 * et des appels enregistrés"): one row per requested ZIP, written by the app
 * when asked and by the worker as it goes. The filters are stored as asked so
 * that a retried job exports the same calls.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('recording_exports')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('requested_by', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('filters', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('queued').check(sql`status in ('queued', 'running', 'completed', 'failed', 'expired')`),
    )
    .addColumn('progress_done', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('progress_total', 'integer')
    // Recordings left out (file missing, unreadable): the CSV lists them with the reason.
    .addColumn('progress_skipped', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('file_path', 'text')
    .addColumn('size_bytes', 'bigint')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('recording_exports_account_idx').on('recording_exports').columns(['account_id', 'created_at']).execute();
  // The clean-up looks for finished exports past their expiry, across accounts.
  await db.schema.createIndex('recording_exports_expiry_idx').on('recording_exports').columns(['status', 'expires_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('recording_exports').ifExists().execute();
}
