import { sql, type Kysely } from 'kysely';

/**
 * The admin Users list (seed 000 "Personnalisation des colonnes"): a user's
 * department, and the indexes that keep search, filters and sorting fast on
 * accounts of 10,000 users. Search is by prefix (the guide: "utilisateur@ring"
 * matches, the domain alone does not), so text_pattern_ops btrees serve it,
 * each led by account_id because every query is scoped to one account.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('department', 'text').execute();
  await sql`create index users_account_first_name_idx on users (account_id, lower(first_name) text_pattern_ops)`.execute(db);
  await sql`create index users_account_last_name_idx on users (account_id, lower(last_name) text_pattern_ops)`.execute(db);
  await sql`create index users_account_full_name_idx on users (account_id, lower(first_name || ' ' || last_name) text_pattern_ops)`.execute(db);
  await sql`create index users_account_email_idx on users (account_id, lower(email) text_pattern_ops)`.execute(db);
  await sql`create index users_account_department_idx on users (account_id, lower(department))`.execute(db);
  await sql`create index users_account_role_idx on users (account_id, role_id)`.execute(db);
  await sql`create index extensions_account_number_idx on extensions (account_id, number text_pattern_ops)`.execute(db);
  await sql`create index extensions_account_site_idx on extensions (account_id, site_id)`.execute(db);
  await sql`create index phone_numbers_extension_idx on phone_numbers (extension_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const i of [
    'users_account_first_name_idx',
    'users_account_last_name_idx',
    'users_account_full_name_idx',
    'users_account_email_idx',
    'users_account_department_idx',
    'users_account_role_idx',
    'extensions_account_number_idx',
    'extensions_account_site_idx',
    'phone_numbers_extension_idx',
  ]) {
    await sql`drop index if exists ${sql.id(i)}`.execute(db);
  }
  await db.schema.alterTable('users').dropColumn('department').execute();
}
