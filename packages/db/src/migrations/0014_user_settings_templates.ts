import { sql, type Kysely } from 'kysely';

/**
 * User details and settings (seed 000 "Détails de l'utilisateur", "Heures de
 * l'utilisateur", "ID de l'appelant sortant", "Notifications") and templates
 * (seed 000 "Gestion des modèles"). Settings that are read as a whole are JSON;
 * the primary number is a column so that unassigning the number clears it.
 *
 * Applying a template is a background job: `template_applications` keeps a
 * snapshot of the template as it was when applied (editing it meanwhile changes
 * nothing), and one `template_application_users` row per target user is
 * stamped in the same transaction as that user's change, so a job retried after
 * a crash skips the users already done and applies to each exactly once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('job_title', 'text', (c) => c.check(sql`char_length(job_title) <= 60`))
    .addColumn('user_hours', 'jsonb', (c) => c.notNull().defaultTo(sql`'{"mode":"24h"}'::jsonb`))
    .addColumn('notification_settings', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('caller_id_settings', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('call_handling', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('call_rules', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('primary_number_id', 'uuid', (c) => c.references('phone_numbers.id').onDelete('set null'))
    .execute();

  await db.schema
    .createTable('user_templates')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('user_settings', 'call_handling')`))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) between 1 and 60`))
    .addColumn('settings', 'jsonb', (c) => c.notNull())
    .addColumn('created_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('updated_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index user_templates_account_name_unique on user_templates (account_id, kind, lower(name))`.execute(db);

  await db.schema
    .createTable('template_applications')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('template_id', 'uuid', (c) => c.references('user_templates.id').onDelete('set null'))
    .addColumn('template_name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('settings', 'jsonb', (c) => c.notNull())
    .addColumn('requested_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('queued').check(sql`status in ('queued', 'running', 'completed', 'failed')`))
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('template_applications_account_idx').on('template_applications').columns(['account_id', 'created_at']).execute();

  await db.schema
    .createTable('template_application_users')
    .addColumn('application_id', 'uuid', (c) => c.notNull().references('template_applications.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('applied_at', 'timestamptz')
    .addPrimaryKeyConstraint('template_application_users_pk', ['application_id', 'user_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('template_application_users').ifExists().execute();
  await db.schema.dropTable('template_applications').ifExists().execute();
  await db.schema.dropTable('user_templates').ifExists().execute();
  await db.schema
    .alterTable('users')
    .dropColumn('primary_number_id')
    .dropColumn('call_rules')
    .dropColumn('call_handling')
    .dropColumn('caller_id_settings')
    .dropColumn('notification_settings')
    .dropColumn('user_hours')
    .dropColumn('job_title')
    .execute();
}
