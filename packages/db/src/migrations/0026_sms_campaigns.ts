import { sql, type Kysely } from 'kysely';

/**
 * High-volume SMS campaigns (issue 18, deliverable 2; inventory 3 §13: A2P,
 * up to 250,000 texts a day with queueing, opt-out and error reports):
 * - `sms_number_registrations`: a number's request for high volume (business,
 *   use case, sample, expected volume), approved or rejected by an admin. At
 *   most one pending or approved request per number; a rejected one may be
 *   submitted again.
 * - `sms_campaign_settings`: the account's quiet hours (wall clock of the
 *   account's time zone); no row means the default window.
 * - `sms_campaigns`: a template sent from one approved number, from a start
 *   time; `next_run_at` is when the scheduler looks at it again (the start,
 *   the end of quiet hours, the next local day once the day's cap is used).
 * - `sms_campaign_recipients`: one row per good line of the uploaded list,
 *   with its text filled in; its message once queued (sent, delivered and
 *   failed are the message's status).
 * - `sms_daily_volume`: texts queued per number and local day, for the cap.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sms_number_registrations')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('phone_number', 'text', (c) => c.notNull())
    .addColumn('business_name', 'text', (c) => c.notNull())
    .addColumn('use_case', 'text', (c) => c.notNull())
    .addColumn('sample_message', 'text', (c) => c.notNull())
    .addColumn('expected_daily_volume', 'integer', (c) => c.notNull().check(sql`expected_daily_volume between 1 and 250000`))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status in ('pending', 'approved', 'rejected')`))
    .addColumn('submitted_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('submitted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('reviewed_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('reviewed_at', 'timestamptz')
    .addColumn('review_note', 'text')
    .execute();
  await sql`create unique index sms_number_registrations_live_key on sms_number_registrations (account_id, phone_number) where status in ('pending', 'approved')`.execute(db);
  await db.schema.createIndex('sms_number_registrations_account_idx').on('sms_number_registrations').columns(['account_id', 'submitted_at']).execute();

  await db.schema
    .createTable('sms_campaign_settings')
    .addColumn('account_id', 'uuid', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    // 'HH:MM' on the account's wall clock; both null: no quiet hours.
    .addColumn('quiet_start', 'text')
    .addColumn('quiet_end', 'text')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('sms_campaign_settings_quiet_check', sql`(quiet_start is null) = (quiet_end is null)`)
    .execute();

  await db.schema
    .createTable('sms_campaigns')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('from_number', 'text', (c) => c.notNull())
    .addColumn('template', 'text', (c) => c.notNull())
    // scheduled → running → completed; paused and back; cancelled for good.
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('scheduled').check(sql`status in ('scheduled', 'running', 'paused', 'completed', 'cancelled')`))
    // Why the scheduler paused it (the number's registration withdrawn, no A2P carrier).
    .addColumn('status_reason', 'text')
    .addColumn('start_at', 'timestamptz', (c) => c.notNull())
    .addColumn('next_run_at', 'timestamptz', (c) => c.notNull())
    .addColumn('total_rows', 'integer', (c) => c.notNull())
    // The lines of the upload refused, with why (at most the first 10,000), and how many there were.
    .addColumn('skipped_rows', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('row_errors', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('sms_campaigns_account_idx').on('sms_campaigns').columns(['account_id', 'created_at']).execute();
  // The scheduler's question, across accounts: which campaigns are due.
  await sql`create index sms_campaigns_due_idx on sms_campaigns (next_run_at) where status in ('scheduled', 'running')`.execute(db);

  await db.schema
    .createTable('sms_campaign_recipients')
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('campaign_id', 'uuid', (c) => c.notNull().references('sms_campaigns.id').onDelete('cascade'))
    // The line of the uploaded file: the report quotes it, and it orders the sends.
    .addColumn('line', 'integer', (c) => c.notNull())
    .addColumn('phone_number', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    // pending → queued (then the message's own status); opted_out or cancelled instead of queued.
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status in ('pending', 'queued', 'opted_out', 'cancelled')`))
    .addColumn('message_id', 'uuid', (c) => c.references('sms_messages.id').onDelete('set null'))
    .addColumn('queued_at', 'timestamptz')
    .addPrimaryKeyConstraint('sms_campaign_recipients_pk', ['campaign_id', 'line'])
    .addUniqueConstraint('sms_campaign_recipients_number_key', ['campaign_id', 'phone_number'])
    .execute();
  // Progress and the next batch: a campaign's recipients by status, in line order.
  await db.schema.createIndex('sms_campaign_recipients_progress_idx').on('sms_campaign_recipients').columns(['account_id', 'campaign_id', 'status', 'line']).execute();
  await db.schema.createIndex('sms_campaign_recipients_message_idx').on('sms_campaign_recipients').column('message_id').execute();

  await db.schema
    .createTable('sms_daily_volume')
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('phone_number', 'text', (c) => c.notNull())
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('texts', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('sms_daily_volume_pk', ['account_id', 'phone_number', 'day'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sms_daily_volume').ifExists().execute();
  await db.schema.dropTable('sms_campaign_recipients').ifExists().execute();
  await db.schema.dropTable('sms_campaigns').ifExists().execute();
  await db.schema.dropTable('sms_campaign_settings').ifExists().execute();
  await db.schema.dropTable('sms_number_registrations').ifExists().execute();
}
