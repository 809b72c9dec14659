import fs from 'node:fs';
import { Readable } from 'node:stream';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, notFound } from '#lib/server/api.ts';
import { callRecording } from '#lib/server/call-log.ts';
import type { RequestHandler } from './$types';

/** A call's recording, streamed from storage, for the call log's player. */
export const GET: RequestHandler = async (event) => {
  if (!/^[0-9a-f-]{36}$/i.test(event.params.id)) return notFound();
  const recording = await callRecording((await getRuntime()).db, caller(event), event.params.id);
  if (!recording) return notFound();
  const stat = await fs.promises.stat(recording.storage_path).catch(() => null);
  if (!stat) return notFound();
  return new Response(Readable.toWeb(fs.createReadStream(recording.storage_path)) as ReadableStream, {
    headers: { 'content-type': 'audio/wav', 'content-length': String(stat.size), 'cache-control': 'private, no-store' },
  });
};
