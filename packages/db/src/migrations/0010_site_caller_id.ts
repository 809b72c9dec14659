import { sql, type Kysely } from 'kysely';

/**
 * Caller ID names (F000 12.9): the company's, and each site's, at most 15 characters; a site
 * without one inherits the company's, and a company without one shows its name cut to 15.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('accounts')
    .addColumn('caller_id_name', 'text', (c) => c.check(sql`char_length(caller_id_name) <= 15`))
    .execute();
  await db.schema
    .alterTable('sites')
    .addColumn('caller_id_name', 'text', (c) => c.check(sql`char_length(caller_id_name) <= 15`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sites').dropColumn('caller_id_name').execute();
  await db.schema.alterTable('accounts').dropColumn('caller_id_name').execute();
}
