import { sql, type Kysely } from 'kysely';

/**
 * Voicemail (issue 13; message-only extensions, issue 19): one row per
 * message left in a mailbox. A mailbox is an extension (a user's, or a
 * message-only extension, inventory 2 X-07). The audio file lives under
 * DATA_DIR (`audio_path` is relative to it, as for transcriptions), and its
 * transcript goes through the existing transcription jobs (`transcription_id`).
 * Callers grow this table, so each mailbox has a quota (`voicemail_settings`,
 * checked before recording) and the account a retention (default 365 days).
 * Deleting moves a message to a trash kept 30 days (`deleted_at`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('voicemail_messages')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('mailbox_extension_id', 'uuid', (c) => c.notNull().references('extensions.id').onDelete('cascade'))
    .addColumn('call_id', 'uuid', (c) => c.references('calls.id').onDelete('set null'))
    // Null when the caller withheld their number.
    .addColumn('from_number', 'text')
    .addColumn('from_name', 'text')
    .addColumn('to_number', 'text', (c) => c.notNull())
    // Why the call reached the mailbox (routing/destination.ts VoicemailReason).
    .addColumn('reason', 'text', (c) => c.notNull().check(sql`reason in ('message_only', 'no_answer', 'busy', 'dnd', 'rule')`))
    .addColumn('audio_path', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull().check(sql`duration_ms >= 0`))
    .addColumn('size_bytes', 'integer', (c) => c.notNull().check(sql`size_bytes >= 0`))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('new').check(sql`status in ('new', 'heard')`))
    .addColumn('urgent', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('transcription_id', 'uuid', (c) => c.references('transcriptions.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('heard_at', 'timestamptz')
    .addColumn('deleted_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('voicemail_messages_mailbox_idx')
    .on('voicemail_messages')
    .columns(['account_id', 'mailbox_extension_id', 'created_at'])
    .execute();

  // Per-mailbox settings; a mailbox without a row takes the defaults.
  await db.schema
    .createTable('voicemail_settings')
    .addColumn('extension_id', 'uuid', (c) => c.primaryKey().references('extensions.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    // Who reads the mailbox when it is not the extension itself (a shared mailbox, X-07).
    .addColumn('recipient_extension_id', 'uuid', (c) => c.references('extensions.id').onDelete('set null'))
    // A message is cut at this length (3 minutes by default).
    .addColumn('max_message_seconds', 'integer', (c) => c.notNull().defaultTo(180).check(sql`max_message_seconds between 10 and 600`))
    // Quota: the caller is told the mailbox is full past it.
    .addColumn('max_messages', 'integer', (c) => c.notNull().defaultTo(100).check(sql`max_messages between 1 and 1000`))
    .addColumn('language', 'text', (c) => c.notNull().defaultTo('en').check(sql`language in ('en', 'fr')`))
    .addColumn('transcribe', 'boolean', (c) => c.notNull().defaultTo(true))
    // A custom greeting (relative to DATA_DIR); null plays the default one.
    .addColumn('greeting_path', 'text')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('voicemail_settings').execute();
  await db.schema.dropTable('voicemail_messages').execute();
}
