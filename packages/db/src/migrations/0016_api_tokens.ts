import { sql, type Kysely } from 'kysely';

/**
 * API tokens for integrations (issue 5, deliverable 12): each belongs to one
 * account, acts with a role no greater than its creator's, and is stored as
 * the SHA-256 of its secret (the secret is high-entropy, so no slow hash is
 * needed); the prefix lets an admin recognise a token without revealing it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('created_by', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role_id', 'uuid', (c) => c.notNull().references('roles.id'))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) between 1 and 60`))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('api_tokens_account_idx').on('api_tokens').columns(['account_id', 'created_at']).execute();
  // A change made by an integration names its token beside the user it acts as.
  await db.schema
    .alterTable('audit_events')
    .addColumn('actor_api_token_id', 'uuid', (c) => c.references('api_tokens.id').onDelete('set null'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_events').dropColumn('actor_api_token_id').execute();
  await db.schema.dropTable('api_tokens').execute();
}
