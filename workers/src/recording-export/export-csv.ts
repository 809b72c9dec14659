import type { ExportRecordingRow } from './export-recordings-query.ts';

/** The call log CSV's columns (app call-log.ts), then what the ZIP adds per recording. */
export const EXPORT_CSV_COLUMNS = [
  'Date',
  'Direction',
  'From',
  'From name',
  'To',
  'Result',
  'Duration (s)',
  'Recording started',
  'Recording duration (s)',
  'File',
  'Problem',
] as const;

/** One RFC 4180 cell; a leading =+-@ is neutralised for spreadsheets, as the call log CSV does. */
function cell(v: string | number | null): string {
  let s = v === null ? '' : String(v);
  if (/^[=+\-@]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const csvHeader = (): string => EXPORT_CSV_COLUMNS.join(',') + '\r\n';

/** The CSV line of one recording: `file` is its name in the ZIP, or null with the `problem` that kept it out. */
export function csvLine(row: ExportRecordingRow, file: string | null, problem: string | null): string {
  return (
    [
      new Date(row.call_started_at).toISOString(),
      row.direction,
      row.from_number,
      row.from_name,
      row.to_number,
      row.result,
      row.call_duration_seconds,
      new Date(row.recording_started_at).toISOString(),
      row.recording_duration_seconds,
      file,
      problem,
    ]
      .map(cell)
      .join(',') + '\r\n'
  );
}

/**
 * The MP3's name in the ZIP: when and between whom, readable in a file
 * manager, and the recording id to keep names unique. Numbers keep only
 * characters that are safe in any file system.
 */
export function mp3EntryName(row: ExportRecordingRow): string {
  const when = new Date(row.recording_started_at).toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  const safe = (n: string) => n.replace(/[^0-9A-Za-z+]/g, '').slice(0, 32) || 'unknown';
  return `recordings/${when}_${safe(row.from_number)}-to-${safe(row.to_number)}_${row.recording_id}.mp3`;
}

export const CSV_ENTRY_NAME = 'recordings.csv';
