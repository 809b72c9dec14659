import { json } from '@sveltejs/kit';
import { resetDeviceCredentials } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound } from '#lib/server/api.ts';
import { sipConnectionInfo } from '#lib/server/sip-info.ts';
import type { RequestHandler } from './$types';

/** A new SIP password for the device; the old one stops working. */
export const POST: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const rt = await getRuntime();
  const reset = await resetDeviceCredentials(rt.db, actorOf(event), caller(event).account.id, event.params.id, rt.config.SIP_DOMAIN);
  return reset ? json({ sip: { ...reset, ...sipConnectionInfo(rt.config) } }) : notFound();
};
