import { fail } from '@sveltejs/kit';
import {
  addCommonAreaPhone,
  assignDevice,
  commonAreaPhoneInput,
  deleteDevice,
  deviceListQuery,
  DuplicateMacError,
  ExtensionTakenError,
  issueDeviceCredentials,
  listDevices,
  newDeviceInput,
  resetDeviceCredentials,
  zodFieldErrors,
} from '@carillon/core';
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
  const params = event.url.searchParams;
  const query = deviceListQuery.safeParse({ view: params.get('view') ?? undefined, q: params.get('q') || undefined });
  const q = query.success ? query.data : { view: 'all' as const };
  return {
    view: q.view,
    q: q.q ?? '',
    devices: await listDevices(rt.db, auth.account.id, q),
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
    try {
      const issued = await issueDeviceCredentials(rt.db, actorOf(event), { accountId: auth.account.id, ...parsed.data, realm: rt.config.SIP_DOMAIN });
      return { credentials: { name: parsed.data.name, username: issued.username, password: issued.password, ...sipConnectionInfo(rt.config) } };
    } catch (e) {
      if (e instanceof DuplicateMacError) return fail(409, { errors: { mac: 'duplicate_mac' }, values });
      return fail(400, { errors: { extensionId: 'extension_not_found' }, values });
    }
  },
  commonArea: async (event) => {
    const auth = caller(event);
    const rt = await getRuntime();
    const values = Object.fromEntries(await event.request.formData());
    const parsed = commonAreaPhoneInput.safeParse(values);
    if (!parsed.success) return fail(400, { errors: zodFieldErrors(parsed.error), values, form: 'commonArea' });
    try {
      const r = await addCommonAreaPhone(rt.db, actorOf(event), auth.account.id, parsed.data, rt.config.SIP_DOMAIN);
      if (r === 'site_not_found') return fail(400, { errors: { siteId: 'site_not_found' }, values, form: 'commonArea' });
      return { credentials: { name: parsed.data.name, username: r.username, password: r.password, ...sipConnectionInfo(rt.config) } };
    } catch (e) {
      if (e instanceof DuplicateMacError) return fail(409, { errors: { mac: 'duplicate_mac' }, values, form: 'commonArea' });
      if (e instanceof ExtensionTakenError) return fail(409, { errors: { extensionNumber: 'extension_taken' }, values, form: 'commonArea' });
      throw e;
    }
  },
  assign: async (event) => {
    const auth = caller(event);
    const rt = await getRuntime();
    const data = await event.request.formData();
    const id = String(data.get('id') ?? '');
    const extensionId = String(data.get('extensionId') ?? '');
    if (!isUuid(id)) return fail(404, { errors: { _form: 'notFound' } });
    if (!isUuid(extensionId)) return fail(400, { errors: { [`assign-${id}`]: 'required' } });
    const r = await assignDevice(rt.db, actorOf(event), auth.account.id, id, extensionId);
    if (r === 'not_found') return fail(404, { errors: { _form: 'notFound' } });
    if (r === 'extension_not_found') return fail(400, { errors: { [`assign-${id}`]: 'extension_not_found' } });
    return { assigned: true };
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
