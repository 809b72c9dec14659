import { sql, type Kysely } from 'kysely';

/**
 * The media-server node that carries each call, so that a node restarting
 * after a crash closes the call records it left open, and only its own
 * (another node's calls are still up).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('calls').addColumn('media_node_id', 'text').execute();
  await db.schema.createIndex('calls_open_by_node_idx').on('calls').column('media_node_id').where(sql.ref('ended_at'), 'is', null).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('calls_open_by_node_idx').ifExists().execute();
  await db.schema.alterTable('calls').dropColumn('media_node_id').execute();
}
