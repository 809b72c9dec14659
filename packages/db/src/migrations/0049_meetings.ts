import { sql, type Kysely } from 'kysely';

/**
 * Video meetings (issue 17; inventory 3 §8.1). A meeting belongs to an account and its host user.
 * `kind` 'personal' is the host's personal meeting (one per user, the partial unique index);
 * 'scheduled' ones are created by the host, each with its own ID. `number` is the 10-digit meeting
 * ID of links and of the join page, unique across the service so that a link names one meeting
 * (lookups are still scoped to the caller's account). The passcode is shown to the host who shares
 * it, so it is stored as it is, as the conference access codes are. `ended_at`: the host ended it,
 * or it was deleted while someone was in it. The number of scheduled meetings per host is bounded
 * by core, not by a constraint.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('meetings')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('host_user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('personal', 'scheduled')`))
    .addColumn('number', 'text', (c) => c.notNull().unique().check(sql`number ~ '^[1-9][0-9]{9}$'`))
    .addColumn('topic', 'text', (c) => c.notNull().check(sql`length(topic) between 1 and 200`))
    .addColumn('scheduled_start', 'timestamptz')
    .addColumn('passcode', 'text', (c) => c.notNull().check(sql`passcode ~ '^[A-Za-z0-9]{6,10}$'`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('ended_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('meetings_account_host_idx').on('meetings').columns(['account_id', 'host_user_id']).execute();
  await db.schema.createIndex('meetings_personal_key').on('meetings').column('host_user_id').unique().where(sql.ref('kind'), '=', 'personal').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('meetings').ifExists().execute();
}
