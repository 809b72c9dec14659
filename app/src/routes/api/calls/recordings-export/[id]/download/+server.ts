import { Readable } from 'node:stream';
import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { downloadFileName, findRecordingExport, openExportFile } from '#lib/server/exports/recording-exports.ts';
import type { RequestHandler } from './$types';

/**
 * The finished ZIP, streamed from disk. Only a completed export is served:
 * the worker renames the file into place once it is whole, so a ZIP being
 * written is never sent. Past its expiry the link answers 410 Gone.
 */
export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const row = await findRecordingExport((await getRuntime()).db, caller(event), event.params.id);
  if (!row) return notFound();
  if (row.status === 'expired') {
    return json(
      { error: 'export_expired', message: `This download link expired on ${new Date(row.expires_at!).toISOString()}. Start a new export from the call log.` },
      { status: 410 },
    );
  }
  if (row.status !== 'completed') {
    return json({ error: 'export_not_ready', status: row.status, message: row.status === 'failed' ? `The export failed: ${row.error}` : 'The export is not finished yet.' }, { status: 409 });
  }
  const file = await openExportFile(row);
  if (!file) return json({ error: 'export_expired', message: 'This export is no longer available. Start a new export from the call log.' }, { status: 410 });
  return new Response(Readable.toWeb(file.stream) as ReadableStream, {
    headers: {
      'content-type': 'application/zip',
      'content-length': String(file.size),
      'content-disposition': `attachment; filename="${downloadFileName(row)}"`,
      'cache-control': 'private, no-store',
    },
  });
};
