import fs from 'node:fs';
import { json } from '@sveltejs/kit';
import { importAudioPrompts, PROMPT_LIMITS } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller } from '#lib/server/api.ts';
import { appFfmpeg } from '#lib/server/ivr/ivr.ts';
import { receiveFiles } from '#lib/server/streamed-upload.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/**
 * PR-0x bulk import: multipart/form-data with up to 50 `files` (WAV or MP3, each at most 10 MB and
 * 5 minutes), streamed to disk as they arrive. Each file becomes a prompt named from its file name, or
 * is refused with its reason; the answer is the report, one line per file, in the order sent (200 even
 * when every file was refused: the request itself was good).
 */
export const POST: RequestHandler = inArea('ivr', async (event) => {
  const received = await receiveFiles(event.request, { field: 'files', maxFiles: PROMPT_LIMITS.maxBulkFiles, maxFileBytes: PROMPT_LIMITS.maxUploadBytes });
  if (!received.ok) return received.response;
  try {
    if (received.files.length === 0) return json({ error: 'invalid_body', fields: { files: 'at least one file' } }, { status: 400 });
    const rt = await getRuntime();
    const report = await importAudioPrompts(
      rt.db,
      { ffmpeg: appFfmpeg(rt), dataDir: rt.config.dataDir },
      actorOf(event),
      caller(event).account.id,
      received.files.map((f) => ({ fileName: f.fileName, upload: f.file })),
    );
    return json({ imported: report.filter((l) => l.imported).length, report });
  } finally {
    // importAudioPrompts removes each upload it took; these are left only when it stopped on an unexpected error.
    for (const f of received.files) if (f.file) fs.rmSync(f.file, { force: true });
  }
});
