import { sql, type Kysely } from 'kysely';

/**
 * A user's recorded name (issues 13 and 14): one per user, recorded in the
 * browser, uploaded (WAV, MP3) or recorded by phone, converted once to the
 * media format (8 kHz mono 16-bit WAV) under DATA_DIR. The default voicemail
 * greeting plays it in place of the spoken extension, and the dial-by-name
 * directory in its "press 1 for …". The row holds the file, so that replacing
 * or resetting the recording, or deleting the user, finds and removes it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('user_name_recordings')
    // One recording per user: a new one replaces the row.
    .addColumn('user_id', 'uuid', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    // Relative to DATA_DIR.
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull().check(sql`duration_ms >= 0`))
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('upload', 'browser', 'phone')`))
    .addColumn('created_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('user_name_recordings_account_idx').on('user_name_recordings').columns(['account_id', 'user_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('user_name_recordings').ifExists().execute();
}
