import { sql, type Kysely } from 'kysely';

/**
 * An extension's Do Not Disturb state (seed 000 "Ne pas déranger"): take all
 * calls, take no call-queue calls, or take no calls. Inbound routing reads it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('extensions')
    .addColumn('dnd_status', 'text', (c) => c.notNull().defaultTo('take_all_calls').check(sql`dnd_status in ('take_all_calls', 'no_queue_calls', 'no_calls')`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('extensions').dropColumn('dnd_status').execute();
}
