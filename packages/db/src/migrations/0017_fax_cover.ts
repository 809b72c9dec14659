import { sql, type Kysely } from 'kysely';

/**
 * Fax cover pages (seed 000 "Paramètres de fax sortant"): each user's cover page template (or none), the
 * "omit cover page when e-mail subject is blank" switch and the Cover Page Info printed on it; and on each
 * fax, the template and info as they were when it was sent, so a later change of settings never alters a
 * fax already queued.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('fax_cover_settings')
    .addColumn('user_id', 'uuid', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('cover_template', 'text', (c) => c.notNull().defaultTo('contempo').check(sql`cover_template in ('classic', 'contempo', 'confidential', 'none')`))
    .addColumn('omit_cover_when_subject_blank', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('cover_info', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .alterTable('faxes')
    .addColumn('cover_template', 'text', (c) => c.notNull().defaultTo('contempo').check(sql`cover_template in ('classic', 'contempo', 'confidential')`))
    .execute();
  await db.schema.alterTable('faxes').addColumn('cover_info', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('faxes').dropColumn('cover_info').execute();
  await db.schema.alterTable('faxes').dropColumn('cover_template').execute();
  await db.schema.dropTable('fax_cover_settings').ifExists().execute();
}
