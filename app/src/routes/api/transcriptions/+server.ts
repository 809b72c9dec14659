import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { createTranscription, listTranscriptions } from '#lib/server/transcriptions.ts';
import type { RequestHandler } from './$types';

const uploadFields = z.object({ notify: z.enum(['true', 'false']).optional() });

export const GET: RequestHandler = async (event) => json(await listTranscriptions((await getRuntime()).db, caller(event)));

/**
 * multipart/form-data with `file` (WAV, MP3 or OGG/Opus) and optional
 * `notify=true` for an e-mail when it is done. Answers 202 with the queued
 * transcription; GET /api/transcriptions/{id} then gives its status and result.
 */
export const POST: RequestHandler = async (event) => {
  const rt = await getRuntime();
  const maxBytes = rt.config.TRANSCRIPTION_MAX_UPLOAD_MB * 1024 * 1024;
  // Refused before reading a byte when the client says how big it is.
  const declared = Number(event.request.headers.get('content-length') ?? 0);
  if (declared > maxBytes + 64 * 1024) return json({ error: 'file_too_large', maxBytes }, { status: 413 });
  if (!(event.request.headers.get('content-type') ?? '').startsWith('multipart/form-data')) {
    return json({ error: 'expected_multipart', fields: { file: 'send the audio as multipart/form-data, field "file"' } }, { status: 400 });
  }
  let form: FormData;
  try {
    form = await event.request.formData();
  } catch {
    return json({ error: 'invalid_body' }, { status: 400 });
  }
  const file = form.get('file');
  if (!(file instanceof File)) return json({ error: 'invalid_body', fields: { file: 'required' } }, { status: 400 });
  const fields = uploadFields.safeParse({ notify: form.get('notify') ?? undefined });
  if (!fields.success) return json({ error: 'invalid_body', fields: { notify: 'true or false' } }, { status: 400 });
  const outcome = await createTranscription(rt, caller(event), file, fields.data.notify === 'true');
  if (!outcome.ok) return json({ error: outcome.error, ...(outcome.maxBytes ? { maxBytes: outcome.maxBytes } : {}) }, { status: outcome.status });
  return json(outcome.transcription, { status: 202 });
};
