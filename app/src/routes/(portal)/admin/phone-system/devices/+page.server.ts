import { fail } from '@sveltejs/kit';
import { deleteDevice, issueDeviceCredentials, listDevices, newDeviceInput, resetDeviceCredentials, zodFieldErrors } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid } from '#lib/server/api.ts';
import { sipConnectionInfo } from '#lib/server/sip-info.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const auth = caller(event);
  const rt = await getRuntime();
  const extensions = await rt.db
    .selectFrom('extensions')
    .leftJoin('users', 'users.extension_id', 'extensions.id')
    .select(['extensions.id', 'extensions.number', 'users.first_name', 'users.last_name'])
    .where('extensions.account_id', '=', auth.account.id)
    .where('extensions.type', '=', 'user')
    .orderBy('extensions.number')
    .execute();
  return {
    devices: await listDevices(rt.db, auth.account.id),
    extensions: extensions.map((e) => ({ id: e.id, label: `${e.number} ${e.first_name ?? ''} ${e.last_name ?? ''}`.trim() })),
    canManage: auth.permissions.has('devices.manage'),
  };
};

export const actions: Actions = {
  add: async (event) => {
    const auth = caller(event);
    const rt = await getRuntime();
    const values = Object.fromEntries(await event.request.formData());
    const parsed = newDeviceInput.safeParse(values);
    if (!parsed.success) return fail(400, { errors: zodFieldErrors(parsed.error), values });
    const issued = await issueDeviceCredentials(rt.db, actorOf(event), { accountId: auth.account.id, ...parsed.data, realm: rt.config.SIP_DOMAIN }).catch(() => null);
    if (!issued) return fail(400, { errors: { extensionId: 'extension_not_found' }, values });
    return { credentials: { name: parsed.data.name, username: issued.username, password: issued.password, ...sipConnectionInfo(rt.config) } };
  },
  reset: async (event) => {
    const auth = caller(event);
    const rt = await getRuntime();
    const id = String((await event.request.formData()).get('id') ?? '');
    const reset = isUuid(id) ? await resetDeviceCredentials(rt.db, actorOf(event), auth.account.id, id, rt.config.SIP_DOMAIN) : null;
    if (!reset) return fail(404, { errors: { _form: 'notFound' } });
    const device = (await listDevices(rt.db, auth.account.id)).find((d) => d.id === id)!;
    return { credentials: { name: device.name, ...reset, ...sipConnectionInfo(rt.config) } };
  },
  delete: async (event) => {
    const auth = caller(event);
    const rt = await getRuntime();
    const id = String((await event.request.formData()).get('id') ?? '');
    if (!isUuid(id) || !(await deleteDevice(rt.db, actorOf(event), auth.account.id, id))) return fail(404, { errors: { _form: 'notFound' } });
    return { deleted: true };
  },
};
