import { json } from '@sveltejs/kit';
import { recordingExportRequest } from '@carillon/contracts/recording-export-filters';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { QueueUnavailableError, recordingExportJson, startRecordingExport } from '#lib/server/exports/recording-exports.ts';
import type { RequestHandler } from './$types';

/**
 * Starts an export of the recordings of the filtered call log (MP3s and a CSV
 * in one ZIP). Answers 202 with the export; its status URL reports progress.
 */
export const POST: RequestHandler = async (event) => {
  const body = await readJson(event.request, recordingExportRequest);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  try {
    const row = await startRecordingExport(rt, caller(event), actorOf(event), body.data);
    return json(recordingExportJson(row), { status: 202, headers: { location: `/api/calls/recordings-export/${row.id}` } });
  } catch (err) {
    if (err instanceof QueueUnavailableError) return json({ error: 'queue_unavailable', message: err.message }, { status: 503 });
    throw err;
  }
};
