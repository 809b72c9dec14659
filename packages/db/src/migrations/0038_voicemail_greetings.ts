import { sql, type Kysely } from 'kysely';

/**
 * A user's custom voicemail greetings (issue 13): uploaded (WAV, MP3) or
 * recorded in the browser, converted once to the media format (8 kHz mono
 * 16-bit WAV) under DATA_DIR. A rule's handling names the greeting it plays
 * (`greeting: { source: 'custom', audioId }`); the row holds the file, so
 * that a greeting no rule names any more can be found and removed with it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('voicemail_greetings')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // Relative to DATA_DIR.
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull().check(sql`duration_ms >= 0`))
    .addColumn('original_name', 'text', (c) => c.check(sql`char_length(original_name) <= 200`))
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('upload', 'browser', 'phone')`))
    .addColumn('created_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('voicemail_greetings_user_idx').on('voicemail_greetings').columns(['account_id', 'user_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('voicemail_greetings').ifExists().execute();
}
