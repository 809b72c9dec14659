import { sql, type Db } from '@carillon/db';
import type { RecordingExportFilters } from '@carillon/contracts/recording-export-filters';

/** One recording to export, with the call log columns of its call. */
export interface ExportRecordingRow {
  recording_id: string;
  storage_path: string;
  recording_started_at: Date;
  recording_duration_seconds: number | null;
  call_started_at: Date;
  direction: string;
  from_number: string;
  from_name: string | null;
  to_number: string;
  result: string | null;
  call_duration_seconds: number | null;
  /** The recording's start as PostgreSQL prints it: a cursor without the millisecond rounding of Date. */
  cursor_started_at: string;
}

/**
 * The recordings an export covers: those of the account's calls that match
 * the filters (as the call log applies them) and had ended when the export
 * was asked for. The cut-off keeps the set fixed, so the count, a retry and
 * the ZIP all agree even while new calls are recorded.
 */
function exportRecordingsQuery(db: Db, accountId: string, filters: RecordingExportFilters, requestedAt: Date) {
  let q = db
    .selectFrom('recordings as r')
    .innerJoin('calls as c', (j) => j.onRef('c.id', '=', 'r.call_id').onRef('c.account_id', '=', 'r.account_id'))
    .where('r.account_id', '=', accountId)
    .where('c.ended_at', 'is not', null)
    .where('c.ended_at', '<=', requestedAt);
  if (filters.extensionId) {
    const ext = filters.extensionId;
    q = q.where((eb) => eb.or([eb('c.caller_extension_id', '=', ext), eb('c.callee_extension_id', '=', ext)]));
  }
  if (filters.from) q = q.where('c.started_at', '>=', new Date(filters.from));
  if (filters.to) q = q.where('c.started_at', '<', new Date(filters.to));
  if (filters.direction) q = q.where('c.direction', '=', filters.direction);
  if (filters.result) q = q.where('c.result', '=', filters.result);
  return q;
}

export async function countExportRecordings(db: Db, accountId: string, filters: RecordingExportFilters, requestedAt: Date): Promise<number> {
  const row = await exportRecordingsQuery(db, accountId, filters, requestedAt)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * The recordings, oldest first, fetched a page at a time on a (start, id)
 * cursor: however many there are, only one page is held in memory.
 */
export async function* exportRecordings(
  db: Db,
  accountId: string,
  filters: RecordingExportFilters,
  requestedAt: Date,
  pageSize = 200,
): AsyncGenerator<ExportRecordingRow> {
  let after: { startedAt: string; id: string } | null = null;
  for (;;) {
    let q = exportRecordingsQuery(db, accountId, filters, requestedAt).select([
      'r.id as recording_id',
      'r.storage_path',
      'r.started_at as recording_started_at',
      'r.duration_seconds as recording_duration_seconds',
      'c.started_at as call_started_at',
      'c.direction',
      'c.from_number',
      'c.from_name',
      'c.to_number',
      'c.result',
      'c.duration_seconds as call_duration_seconds',
      sql<string>`r.started_at::text`.as('cursor_started_at'),
    ]);
    if (after) {
      const { startedAt, id } = after;
      q = q.where(sql<boolean>`(r.started_at, r.id) > (${startedAt}::timestamptz, ${id}::uuid)`);
    }
    const page = await q.orderBy('r.started_at').orderBy('r.id').limit(pageSize).execute();
    for (const row of page) yield row;
    if (page.length < pageSize) return;
    const last = page[page.length - 1]!;
    after = { startedAt: last.cursor_started_at, id: last.recording_id };
  }
}
