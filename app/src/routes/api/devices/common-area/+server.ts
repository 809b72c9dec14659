import { json } from '@sveltejs/kit';
import { addCommonAreaPhone, commonAreaPhoneInput, DuplicateMacError, ExtensionTakenError } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { sipConnectionInfo } from '#lib/server/sip-info.ts';
import type { RequestHandler } from './$types';

/** A common-area phone on a new limited extension; its SIP credentials are shown this once. */
export const POST: RequestHandler = async (event) => {
  const rt = await getRuntime();
  const body = await readJson(event.request, commonAreaPhoneInput);
  if (!body.ok) return body.response;
  try {
    const r = await addCommonAreaPhone(rt.db, actorOf(event), caller(event).account.id, body.data, rt.config.SIP_DOMAIN);
    if (r === 'site_not_found') return json({ error: 'invalid_body', fields: { siteId: 'site_not_found' } }, { status: 400 });
    return json({ id: r.deviceId, extensionId: r.extensionId, sip: { username: r.username, password: r.password, ...sipConnectionInfo(rt.config) } }, { status: 201 });
  } catch (e) {
    if (e instanceof DuplicateMacError) return json({ error: 'duplicate_mac', fields: { mac: 'duplicate_mac' } }, { status: 409 });
    if (e instanceof ExtensionTakenError) return json({ error: 'extension_taken', fields: { extensionNumber: 'extension_taken' } }, { status: 409 });
    throw e;
  }
};
