import { expect } from 'vitest';
import type { Db } from '@carillon/db';

/**
 * Waits until every call of the database has its result: media-server writes
 * it just after the last leg ends, a moment after the browsers see the hang-up.
 * Only for calls that were answered (their row is written at the answer): a
 * call that never connects has no row until its end, so wait for that row.
 */
export async function waitForCallResults(db: Db, timeoutMs = 10_000): Promise<void> {
  await expect
    .poll(async () => (await db.selectFrom('calls').select('id').where('result', 'is', null).execute()).length, { timeout: timeoutMs, interval: 100 })
    .toBe(0);
}
