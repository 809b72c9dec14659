import { sql, type Kysely } from 'kysely';

/**
 * A user's answering rules and call settings (inventory 1 §7.5–7.6; issue 13).
 * The hours a rule set reads stay in `users.user_hours`; the rules are rows so
 * that what belongs to one rule (its voicemail greeting, later) can refer to
 * it and go with it. `in_hours` and `after_hours` exist at most once per user;
 * custom rules are tried in `position` order. What a rule does (ring plan,
 * after-ringing action, greeting, audio while connecting) and its conditions
 * are JSON read as a whole, validated by domain's answering-rules schemas.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('answering_rules')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('in_hours', 'after_hours', 'custom')`))
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0).check(sql`position between 0 and 1000`))
    .addColumn('name', 'text', (c) => c.check(sql`char_length(name) <= 60`))
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('conditions', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('handling', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index answering_rules_one_hours_rule on answering_rules (user_id, kind) where kind <> 'custom'`.execute(db);
  await db.schema.createIndex('answering_rules_user_idx').on('answering_rules').columns(['account_id', 'user_id', 'position']).execute();

  await db.schema
    .createTable('user_call_settings')
    .addColumn('user_id', 'uuid', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('settings', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('user_call_settings').ifExists().execute();
  await db.schema.dropTable('answering_rules').ifExists().execute();
}
