import { json } from '@sveltejs/kit';
import { issueDeviceCredentials, listDevices, newDeviceInput } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { sipConnectionInfo } from '#lib/server/sip-info.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => json(await listDevices((await getRuntime()).db, caller(event).account.id));

/** Adds a phone and returns its SIP credentials: the only time the password is shown. */
export const POST: RequestHandler = async (event) => {
  const auth = caller(event);
  const rt = await getRuntime();
  const body = await readJson(event.request, newDeviceInput);
  if (!body.ok) return body.response;
  const issued = await issueDeviceCredentials(rt.db, actorOf(event), { accountId: auth.account.id, ...body.data, realm: rt.config.SIP_DOMAIN }).catch(() => null);
  if (!issued) return json({ error: 'invalid_body', fields: { extensionId: 'extension_not_found' } }, { status: 400 });
  return json({ id: issued.deviceId, sip: { username: issued.username, password: issued.password, ...sipConnectionInfo(rt.config) } }, { status: 201 });
};
