import fs from 'node:fs';
import type { Db } from '@carillon/db';
import { exportZipPath, partialZipPath, workDirPath } from './export-paths.ts';

/**
 * Deletes the ZIP of an export past its expiry and marks it expired. The app
 * (on access) and the periodic sweep may both do it for the same export.
 * The file goes first: a crash in between leaves a row that the next sweep
 * finds again, never a file that nothing points to.
 */
export async function expireExport(db: Db, e: { id: string; account_id: string; file_path: string | null; expires_at: Date | null }): Promise<void> {
  if (!e.expires_at || new Date(e.expires_at).getTime() > Date.now()) return;
  if (e.file_path) await fs.promises.rm(e.file_path, { force: true });
  await db
    .updateTable('recording_exports')
    .set({ status: 'expired', file_path: null })
    .where('id', '=', e.id)
    .where('account_id', '=', e.account_id)
    .where('status', '=', 'completed')
    .where('expires_at', '<=', new Date())
    .execute();
}

/**
 * An export still queued or running after this long will not finish: its job
 * was lost (Redis emptied) or failed without reaching the processor (stalled
 * twice). The sweep says so on the row and frees what it left on disk.
 */
export const ABANDONED_EXPORT_MS = 24 * 3600_000;

async function failAbandonedExports(db: Db, dataDir: string): Promise<void> {
  const abandoned = await db
    .updateTable('recording_exports')
    .set({ status: 'failed', error: 'the export did not finish; start a new one' })
    .where('status', 'in', ['queued', 'running'])
    .where('created_at', '<', new Date(Date.now() - ABANDONED_EXPORT_MS))
    .returning(['id', 'account_id'])
    .execute();
  for (const e of abandoned) {
    const zip = exportZipPath(dataDir, e.account_id, e.id);
    await fs.promises.rm(partialZipPath(zip), { force: true });
    await fs.promises.rm(workDirPath(zip), { recursive: true, force: true });
  }
}

/** The periodic clean-up (`sweep-expired` jobs): every account's exports past their expiry. Returns how many. */
export async function sweepExpiredExports(db: Db, dataDir: string): Promise<number> {
  await failAbandonedExports(db, dataDir);
  const expired = await db
    .selectFrom('recording_exports')
    .select(['id', 'account_id', 'file_path', 'expires_at'])
    .where('status', '=', 'completed')
    .where('expires_at', '<=', new Date())
    .limit(1000)
    .execute();
  for (const e of expired) await expireExport(db, e);
  return expired.length;
}
