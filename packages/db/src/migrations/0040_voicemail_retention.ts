import { sql, type Kysely } from 'kysely';

/**
 * How long an account keeps voicemail messages (issue 13: "retention per account, default 365 days"):
 * the periodic sweep deletes older messages, audio and transcript included, whether heard or not.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('accounts')
    .addColumn('voicemail_retention_days', 'integer', (c) => c.notNull().defaultTo(365).check(sql`voicemail_retention_days between 1 and 3650`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('accounts').dropColumn('voicemail_retention_days').execute();
}
