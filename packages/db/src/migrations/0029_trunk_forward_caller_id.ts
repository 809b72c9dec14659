import { sql, type Kysely } from 'kysely';

/**
 * Calls a user forwards to an outside number (issue 13) go out through the
 * account's trunk. Many carriers let us present the original caller's number
 * in From when our own number is asserted (P-Asserted-Identity, Diversion);
 * some refuse or rewrite a From that is not one of the account's numbers.
 * `forward_caller_id` says which: true (the default) keeps the original
 * caller's ID on forwarded calls, false presents the user's number instead.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table sip_trunks add column forward_caller_id boolean not null default true`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table sip_trunks drop column if exists forward_caller_id`.execute(db);
}
