import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { composeFax, listFaxes } from '#lib/server/fax/faxes.ts';
import type { RequestHandler } from './$types';

/** The caller's sent faxes, newest first, with each recipient's status. */
export const GET: RequestHandler = async (event) => json(await listFaxes((await getRuntime()).db, caller(event)));

/**
 * Sends a fax: multipart/form-data with `recipients` (repeated, or separated
 * by commas or new lines; at most 50), `coverPage` (true/false), `to`,
 * `subject`, `message`, `resolution` (fine/standard), optional `sendAt`
 * (ISO date) and the files as repeated `attachments`. Answers 202 with the fax.
 */
export const POST: RequestHandler = async (event) => {
  const rt = await getRuntime();
  const maxBytes = rt.config.FAX_MAX_UPLOAD_MB * 1024 * 1024;
  // Refused before reading a byte when the client says how big it is.
  const declared = Number(event.request.headers.get('content-length') ?? 0);
  if (declared > maxBytes + 256 * 1024) {
    return json({ error: 'attachments_too_large', message: `the attachments may total at most ${rt.config.FAX_MAX_UPLOAD_MB} MB`, maxBytes }, { status: 413 });
  }
  if (!(event.request.headers.get('content-type') ?? '').startsWith('multipart/form-data')) {
    return json({ error: 'expected_multipart', message: 'send the fax as multipart/form-data' }, { status: 400 });
  }
  let form: FormData;
  try {
    form = await event.request.formData();
  } catch {
    return json({ error: 'invalid_body', message: 'the form could not be read' }, { status: 400 });
  }
  const outcome = await composeFax(rt, caller(event), form);
  if (!outcome.ok) return json({ error: outcome.error, message: outcome.message, ...(outcome.fields ? { fields: outcome.fields } : {}) }, { status: outcome.status });
  return json(outcome.fax, { status: 202, headers: { location: `/api/faxes/${outcome.fax.id}` } });
};
