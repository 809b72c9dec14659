import { sql, type Kysely } from 'kysely';

/**
 * A call log row is one segment of a conversation: who talked to whom, from
 * answer to end. A transfer ends a segment and starts the next one between
 * the parties who are now talking; the segments of one conversation share
 * their `session_id` (the first segment's id). A segment a transfer ended
 * has the result `transferred` (and `hangup_by` the transferor's end).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('calls').addColumn('session_id', 'uuid').execute();
  await sql`UPDATE calls SET session_id = id`.execute(db);
  // A row written without one is a session of its own.
  await sql`ALTER TABLE calls ALTER COLUMN session_id SET DEFAULT gen_random_uuid(), ALTER COLUMN session_id SET NOT NULL`.execute(db);
  await db.schema.createIndex('calls_account_session_idx').on('calls').columns(['account_id', 'session_id']).execute();
  await sql`ALTER TABLE calls DROP CONSTRAINT calls_result_check`.execute(db);
  await sql`ALTER TABLE calls ADD CONSTRAINT calls_result_check CHECK (result in (${sql.raw(RESULTS.map((r) => `'${r}'`).join(', '))}, 'transferred'))`.execute(db);
}

const RESULTS = ['answered', 'missed', 'busy', 'no_answer', 'rejected', 'cancelled', 'unavailable', 'failed', 'not_found', 'forbidden'];

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`UPDATE calls SET result = 'answered' WHERE result = 'transferred'`.execute(db);
  await sql`ALTER TABLE calls DROP CONSTRAINT calls_result_check`.execute(db);
  await sql`ALTER TABLE calls ADD CONSTRAINT calls_result_check CHECK (result in (${sql.raw(RESULTS.map((r) => `'${r}'`).join(', '))}))`.execute(db);
  await db.schema.dropIndex('calls_account_session_idx').ifExists().execute();
  await db.schema.alterTable('calls').dropColumn('session_id').execute();
}
