import { sql, type Kysely } from 'kysely';
import type { Database } from '@carillon/db';

/**
 * At start: the calls this node left open when it died (kill -9, crash, power
 * loss) are over, since their media and dialogs died with it. Each is closed as
 * failed, ended now, with its open legs marked interrupted; calls of other
 * nodes are left alone. Returns how many calls were closed.
 */
export async function closeCallsLeftOpen(db: Kysely<Database>, nodeId: string): Promise<number> {
  const now = new Date();
  const { rows } = await sql<{ id: string }>`
    WITH c AS (
      UPDATE calls SET ended_at = ${now}, result = 'failed',
        duration_seconds = CASE WHEN answered_at IS NULL THEN 0 ELSE round(extract(epoch FROM (${now}::timestamptz - answered_at)))::int END
      WHERE media_node_id = ${nodeId} AND ended_at IS NULL
      RETURNING id
    ), l AS (
      UPDATE call_legs SET ended_at = ${now}, result = 'interrupted'
      WHERE call_id IN (SELECT id FROM c) AND ended_at IS NULL
    )
    SELECT id FROM c`.execute(db);
  return rows.length;
}
