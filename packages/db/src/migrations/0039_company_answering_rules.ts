import { sql, type Kysely } from 'kysely';

/**
 * The company's custom answering rules (inventory 2 RULE-01…RULE-06; issue 14): an ordered list per
 * account, tried in `position` order on every call to a company number. The database bounds the list
 * itself: positions are 1–50 and unique per account, so an account never holds more than 50 rules
 * (core counts first to give a clear error). The uniqueness is checked at commit (deferred), so that a
 * reorder can move every row within one transaction. Conditions and target are JSON read by domain's
 * schemas (`ruleConditionsSchema`, `companyRuleTarget`); a target names an extension by its number, so
 * that a rule whose extension was deleted still says which one it was (IVR-15's validation reports it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('company_answering_rules')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull().check(sql`position between 1 and 50`))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) between 1 and 60`))
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('conditions', 'jsonb', (c) => c.notNull())
    .addColumn('target', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`alter table company_answering_rules add constraint company_answering_rules_position_key unique (account_id, position) deferrable initially deferred`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('company_answering_rules').ifExists().execute();
}
