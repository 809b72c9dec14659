import type { Kysely } from 'kysely';

/**
 * The account setting "require clean content" of high-volume texts (issue 18,
 * deliverable 2): when set, a campaign or an API text with a shortened URL or
 * a spam pattern is refused instead of only warned about. With the quiet hours
 * in the account's campaign settings.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('sms_campaign_settings')
    .addColumn('require_clean_content', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sms_campaign_settings').dropColumn('require_clean_content').execute();
}
