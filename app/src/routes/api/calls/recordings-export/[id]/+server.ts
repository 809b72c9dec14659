import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { findRecordingExport, recordingExportJson } from '#lib/server/exports/recording-exports.ts';
import type { RequestHandler } from './$types';

/** An export's status and progress (recordings done out of the total), polled by the call log page. */
export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const row = await findRecordingExport((await getRuntime()).db, caller(event), event.params.id);
  return row ? json(recordingExportJson(row), { headers: { 'cache-control': 'no-store' } }) : notFound();
};
