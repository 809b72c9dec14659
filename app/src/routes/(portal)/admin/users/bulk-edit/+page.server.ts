import { fail, redirect } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid } from '#lib/server/api.ts';
import { confirmBulkEdit, getBulkEdit, uploadBulkEdit } from '#lib/server/users/bulk-edit/bulk-edit.ts';
import { MAX_ROWS, MAX_UPLOAD_BYTES } from '#lib/server/users/bulk-edit/read-table.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const id = event.url.searchParams.get('id');
  const edit = id && isUuid(id) ? await getBulkEdit((await getRuntime()).db, caller(event), id) : null;
  return { edit, missing: Boolean(id) && !edit, maxMb: MAX_UPLOAD_BYTES / 1048576, maxRows: MAX_ROWS };
};

export const actions: Actions = {
  upload: async (event) => {
    let form: FormData;
    try {
      form = await event.request.formData();
    } catch {
      return fail(400, { error: 'unreadable_file' });
    }
    const file = form.get('file');
    if (!(file instanceof File) || file.size === 0) return fail(400, { error: file instanceof File ? 'empty_file' : 'missing_file' });
    if (file.size > MAX_UPLOAD_BYTES) return fail(413, { error: 'file_too_large' });
    const outcome = await uploadBulkEdit((await getRuntime()).db, caller(event), { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
    if (!outcome.ok) return fail(outcome.status, { error: outcome.error });
    redirect(303, `?id=${outcome.edit.id}`);
  },
  confirm: async (event) => {
    const id = String((await event.request.formData()).get('id') ?? '');
    if (!isUuid(id)) return fail(404, { error: 'not_found' });
    const outcome = await confirmBulkEdit((await getRuntime()).db, caller(event), actorOf(event), id);
    if (!outcome.ok) return fail(outcome.status, { error: outcome.status === 404 ? 'not_found' : outcome.error });
    redirect(303, `?id=${id}`);
  },
};
