import { sql, type Kysely } from 'kysely';

/**
 * IVR (issue 14; inventory 2 §3–6): the prompts library (PR-02), IVR menus as extensions (IVR-11: the
 * number and name stay in `extensions`, type `ivr_menu`; the menu's language, prompt and keys here) and the
 * account-wide IVR settings (IVR-02…IVR-04, AR-05, AR-06). Menus and settings hold the domain's shapes
 * (`@carillon/domain` ivr-config) as JSON, validated by zod on every write and every read.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ivr_prompts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`length(name) between 1 and 100`))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('tts', 'audio')`))
    // TTS prompts: the text and its language; the audio is in the TTS cache, keyed by text, voice and language.
    .addColumn('text', 'text')
    .addColumn('language', 'text', (c) => c.check(sql`language in ('en', 'fr')`))
    // The media file (8 kHz mono 16-bit WAV), relative to DATA_DIR.
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('original_name', 'text')
    .addColumn('created_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('ivr_prompts_account_name_unique', ['account_id', 'name'])
    .addCheckConstraint('ivr_prompts_tts_text', sql`(kind = 'tts') = (text is not null and language is not null)`)
    .execute();

  await db.schema
    .createTable('ivr_menus')
    .addColumn('extension_id', 'uuid', (c) => c.primaryKey().references('extensions.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('language', 'text', (c) => c.notNull().check(sql`language in ('en', 'fr')`))
    .addColumn('prompt', 'jsonb')
    .addColumn('keys', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('generic_keys', 'jsonb')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('ivr_menus_account_idx').on('ivr_menus').column('account_id').execute();

  await db.schema
    .createTable('ivr_settings')
    .addColumn('account_id', 'uuid', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('settings', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('ivr_settings').ifExists().execute();
  await db.schema.dropTable('ivr_menus').ifExists().execute();
  await db.schema.dropTable('ivr_prompts').ifExists().execute();
}
