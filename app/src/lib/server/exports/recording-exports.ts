import fs from 'node:fs';
import { recordAudit, type AuditActor, type AuthenticatedSession } from '@carillon/core';
import type { Db, RecordingExport } from '@carillon/db';
import { effectiveExportFilters, type RecordingExportRequest } from '@carillon/contracts/recording-export-filters';
import { enqueueRecordingExport } from '@carillon/core/jobs';
import { expireExport } from '@carillon/core/recording-exports';
import type { Runtime } from '../runtime.ts';
import { appJobs } from '../jobs.ts';
import { userScopeOf } from '../users/scope.ts';

/**
 * Recording exports (seed 000 "Téléchargement du journal des appels et des
 * appels enregistrés"): the app stores the request and queues it; the workers
 * build the ZIP in the background and report progress on the row, so the user
 * can leave the page. An export is seen only by the user who asked for it.
 */
type ExportRow = RecordingExport;

export class QueueUnavailableError extends Error {}

/** Stores and queues an export of the recordings the filters select among the calls the caller may see. */
export async function startRecordingExport(rt: Runtime, auth: AuthenticatedSession, actor: AuditActor, request: RecordingExportRequest): Promise<ExportRow> {
  // The worker knows only "one extension" or "the whole company": a site- or group-scoped admin exports their own calls only, never beyond their scope.
  const filters = effectiveExportFilters(request, {
    extensionId: auth.user.extension_id,
    mayExportCompany: auth.permissions.has('reports.company_call_log') && (await userScopeOf(rt.db, auth)).kind === 'account',
  });
  const row = await rt.db
    .insertInto('recording_exports')
    .values({ account_id: auth.account.id, requested_by: auth.user.id, filters: JSON.stringify(filters) })
    .returningAll()
    .executeTakeFirstOrThrow();
  // Recordings are personal data: who took a copy of which calls is worth keeping.
  await recordAudit(rt.db, actor, { accountId: auth.account.id, action: 'recording_export.requested', targetType: 'recording_export', targetId: row.id, after: { filters } });
  try {
    const queue = appJobs(rt).producer.queue('recording-export');
    await withTimeout(enqueueRecordingExport(queue, row.id, { accountId: auth.account.id, userId: auth.user.id }), 5000);
  } catch (err) {
    const message = 'the job queue is unavailable; try again later';
    rt.log.error('recording export not queued', { exportId: row.id, error: err instanceof Error ? err.message : String(err) });
    await rt.db.updateTable('recording_exports').set({ status: 'failed', error: message }).where('id', '=', row.id).where('account_id', '=', auth.account.id).execute();
    throw new QueueUnavailableError(message);
  }
  return row;
}

/**
 * The caller's own export, or null (another account's or another user's is
 * simply not found). A finished export past its expiry is cleaned up on the
 * way: its file deleted, its status `expired`.
 */
export async function findRecordingExport(db: Db, auth: AuthenticatedSession, id: string): Promise<ExportRow | null> {
  const byId = () =>
    db.selectFrom('recording_exports').selectAll().where('id', '=', id).where('account_id', '=', auth.account.id).where('requested_by', '=', auth.user.id).executeTakeFirst();
  const row = await byId();
  if (!row) return null;
  if (row.status === 'completed' && isExpired(row)) {
    await expireExport(db, row);
    return (await byId()) ?? null;
  }
  return row;
}

export const isExpired = (row: Pick<ExportRow, 'expires_at'>, now = Date.now()) => row.expires_at !== null && new Date(row.expires_at).getTime() <= now;

/** The export as the status API shows it. */
export function recordingExportJson(row: ExportRow) {
  return {
    id: row.id,
    status: row.status,
    progress: { done: row.progress_done, total: row.progress_total, skipped: row.progress_skipped },
    error: row.error,
    sizeBytes: row.size_bytes === null ? null : Number(row.size_bytes),
    createdAt: new Date(row.created_at).toISOString(),
    completedAt: row.completed_at ? new Date(row.completed_at).toISOString() : null,
    expiresAt: row.expires_at ? new Date(row.expires_at).toISOString() : null,
    downloadUrl: row.status === 'completed' ? `/api/calls/recordings-export/${row.id}/download` : null,
  };
}

/** The ZIP's name for the browser: what it is and when it was asked for. */
export function downloadFileName(row: ExportRow): string {
  const day = new Date(row.created_at).toISOString().slice(0, 10);
  return `call-recordings-${day}-${row.id.slice(0, 8)}.zip`;
}

/** The finished ZIP, or null when it is no longer on disk. */
export async function openExportFile(row: ExportRow): Promise<{ stream: fs.ReadStream; size: number } | null> {
  if (!row.file_path) return null;
  const handle = await fs.promises.open(row.file_path, 'r').catch(() => null);
  if (!handle) return null;
  const { size } = await handle.stat();
  return { stream: handle.createReadStream(), size };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms)));
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}
