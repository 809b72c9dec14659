import { sql, type Kysely } from 'kysely';

/**
 * FaxOut (seed 000 "FaxOut"): a fax a user sends (`faxes`), one row per
 * number it goes to (`fax_recipients`, each with its own status and reason),
 * the Messages inbox of faxes received by an extension (`fax_messages`) and
 * the extra addresses allowed to send faxes by e-mail (`fax_email_senders`).
 * The rendered TIFF-F lives on disk; the rows hold its path.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('faxes')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('sender_user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // The sender's fax number (E.164), printed on the cover page and shown as the sender in the inbox.
    .addColumn('from_number', 'text')
    .addColumn('from_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('cover_page', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('cover_to', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('cover_subject', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('cover_message', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('resolution', 'text', (c) => c.notNull().defaultTo('fine').check(sql`resolution in ('fine', 'standard')`))
    // Each entry: { name, path, mediaType, status: 'pending'|'rendered'|'failed', pages, error }.
    .addColumn('attachments', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('queued').check(sql`status in ('queued', 'rendering', 'sending', 'completed', 'failed')`),
    )
    .addColumn('scheduled_at', 'timestamptz')
    .addColumn('page_count', 'integer')
    .addColumn('rendered_path', 'text')
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('faxes_account_sender_idx').on('faxes').columns(['account_id', 'sender_user_id', 'created_at']).execute();

  await db.schema
    .createTable('fax_recipients')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('fax_id', 'uuid', (c) => c.notNull().references('faxes.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('number', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('queued').check(sql`status in ('queued', 'rendering', 'sending', 'delivered', 'failed')`),
    )
    .addColumn('reason', 'text')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('fax_recipients_fax_position_key', ['fax_id', 'position'])
    .execute();

  await db.schema
    .createTable('fax_messages')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('extension_id', 'uuid', (c) => c.notNull().references('extensions.id').onDelete('cascade'))
    .addColumn('from_number', 'text')
    .addColumn('from_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('to_number', 'text', (c) => c.notNull())
    .addColumn('page_count', 'integer', (c) => c.notNull())
    .addColumn('pdf_path', 'text', (c) => c.notNull())
    // The recipient row that delivered it: a retried delivery finds its message instead of adding a second one.
    .addColumn('fax_recipient_id', 'uuid', (c) => c.unique().references('fax_recipients.id').onDelete('set null'))
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('read', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema.createIndex('fax_messages_extension_idx').on('fax_messages').columns(['account_id', 'extension_id', 'received_at']).execute();

  // E-mail to fax: addresses besides the user's login that may send faxes as them ("Faxes Sent via Email").
  await db.schema
    .createTable('fax_email_senders')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // Lower-cased; one owner per address, so a mail is never ambiguous about whose fax it is.
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('fax_email_senders').ifExists().execute();
  await db.schema.dropTable('fax_messages').ifExists().execute();
  await db.schema.dropTable('fax_recipients').ifExists().execute();
  await db.schema.dropTable('faxes').ifExists().execute();
}
