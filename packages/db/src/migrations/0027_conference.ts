import { sql, type Kysely } from 'kysely';

/**
 * The audio conference bridge (issue 16; inventory 1 §5.1–5.3).
 * - `conference_dial_ins`: the account's phone numbers that reach the bridge (its dial-in number,
 *   and later the international ones). A number there is routed to the conference, whatever else
 *   it is assigned to.
 * - `conference_access_codes`: each user's host code and participant code (by the user's
 *   extension), unique within the account across both roles, since the code alone decides
 *   whose conference and which role. Codes are shown to their owner (the settings window), so they
 *   are stored as they are, not hashed; regenerating replaces them.
 * - `conference_settings`: a host's settings (§5.2); a host without a row takes the defaults.
 * Each row is one per number or per user: nothing a caller does grows these tables.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('conference_dial_ins')
    .addColumn('phone_number_id', 'uuid', (c) => c.primaryKey().references('phone_numbers.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('conference_dial_ins_account_idx').on('conference_dial_ins').column('account_id').execute();

  await db.schema
    .createTable('conference_access_codes')
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('extension_id', 'uuid', (c) => c.notNull().references('extensions.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('host', 'participant')`))
    .addColumn('code', 'text', (c) => c.notNull().check(sql`code ~ '^[0-9]{6}$'`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('conference_access_codes_pk', ['extension_id', 'role'])
    .addUniqueConstraint('conference_access_codes_code_key', ['account_id', 'code'])
    .execute();

  await db.schema
    .createTable('conference_settings')
    .addColumn('extension_id', 'uuid', (c) => c.primaryKey().references('extensions.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('join_before_host', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('enter_tone', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('exit_tone', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('announce_names', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('conference_settings').execute();
  await db.schema.dropTable('conference_access_codes').execute();
  await db.schema.dropTable('conference_dial_ins').execute();
}
