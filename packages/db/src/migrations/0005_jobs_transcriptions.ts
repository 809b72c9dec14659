import { sql, type Kysely } from 'kysely';

/**
 * Transcriptions of audio files (voicemail later, API uploads now). The row is
 * the one visible result of a `transcription` job: the worker writes it once,
 * so a job re-run after a crash cannot show two results.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('transcriptions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('extension_id', 'uuid', (c) => c.references('extensions.id').onDelete('set null'))
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('queued').check(sql`status in ('queued', 'processing', 'completed', 'failed')`),
    )
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'integer', (c) => c.notNull())
    // Relative to DATA_DIR, which the app and the workers share.
    .addColumn('audio_path', 'text', (c) => c.notNull())
    .addColumn('engine', 'text')
    .addColumn('text', 'text')
    .addColumn('words', 'jsonb')
    .addColumn('confidence', 'real')
    .addColumn('duration_ms', 'integer')
    .addColumn('processing_ms', 'integer')
    .addColumn('error', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('notify_email', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('transcriptions_account_created').on('transcriptions').columns(['account_id', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('transcriptions').execute();
}
