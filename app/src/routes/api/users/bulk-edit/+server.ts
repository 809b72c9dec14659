import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { MAX_UPLOAD_BYTES } from '#lib/server/users/bulk-edit/read-table.ts';
import { uploadBulkEdit } from '#lib/server/users/bulk-edit/bulk-edit.ts';
import type { RequestHandler } from './$types';

/**
 * multipart/form-data with `file`: a CSV or XLSX with the export's columns. Nothing is changed:
 * answers 201 with the stored check { id, status: ready|invalid, issues: [{ row, column, reason }],
 * changes }, to be applied by POST /api/users/bulk-edit/{id}/confirm.
 */
export const POST: RequestHandler = async (event) => {
  const declared = Number(event.request.headers.get('content-length') ?? 0);
  if (declared > MAX_UPLOAD_BYTES + 64 * 1024) return json({ error: 'file_too_large', maxBytes: MAX_UPLOAD_BYTES }, { status: 413 });
  if (!(event.request.headers.get('content-type') ?? '').startsWith('multipart/form-data')) {
    return json({ error: 'expected_multipart', fields: { file: 'send the file as multipart/form-data, field "file"' } }, { status: 400 });
  }
  let form: FormData;
  try {
    form = await event.request.formData();
  } catch {
    return json({ error: 'invalid_body' }, { status: 400 });
  }
  const file = form.get('file');
  if (!(file instanceof File)) return json({ error: 'invalid_body', fields: { file: 'required' } }, { status: 400 });
  if (file.size > MAX_UPLOAD_BYTES) return json({ error: 'file_too_large', maxBytes: MAX_UPLOAD_BYTES }, { status: 413 });
  const outcome = await uploadBulkEdit((await getRuntime()).db, caller(event), { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
  if (!outcome.ok) return json({ error: outcome.error, message: outcome.message, ...(outcome.status === 413 ? { maxBytes: MAX_UPLOAD_BYTES } : {}) }, { status: outcome.status });
  return json(outcome.edit, { status: 201 });
};
