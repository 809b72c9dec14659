import { json } from '@sveltejs/kit';
import { deviceListQuery, DuplicateMacError, issueDeviceCredentials, listDevices, newDeviceInput } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson, readQuery } from '#lib/server/api.ts';
import { sipConnectionInfo } from '#lib/server/sip-info.ts';
import type { RequestHandler } from './$types';

/** Phones of one view (all, user, common_area, unassigned), searched by name, MAC, user or extension. */
export const GET: RequestHandler = async (event) => {
  const q = readQuery(event.url, deviceListQuery);
  if (!q.ok) return q.response;
  return json(await listDevices((await getRuntime()).db, caller(event).account.id, q.data));
};

/** Adds a phone and returns its SIP credentials: the only time the password is shown. */
export const POST: RequestHandler = async (event) => {
  const auth = caller(event);
  const rt = await getRuntime();
  const body = await readJson(event.request, newDeviceInput);
  if (!body.ok) return body.response;
  try {
    const issued = await issueDeviceCredentials(rt.db, actorOf(event), { accountId: auth.account.id, ...body.data, realm: rt.config.SIP_DOMAIN });
    return json({ id: issued.deviceId, sip: { username: issued.username, password: issued.password, ...sipConnectionInfo(rt.config) } }, { status: 201 });
  } catch (e) {
    if (e instanceof DuplicateMacError) return json({ error: 'duplicate_mac', fields: { mac: 'duplicate_mac' } }, { status: 409 });
    return json({ error: 'invalid_body', fields: { extensionId: 'extension_not_found' } }, { status: 400 });
  }
};
