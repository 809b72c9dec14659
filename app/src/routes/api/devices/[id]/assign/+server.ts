import { json } from '@sveltejs/kit';
import { assignDevice, getDevice } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { deviceAssignInput } from '#lib/server/devices/schemas.ts';
import type { RequestHandler } from './$types';

/** Gives a phone (an unassigned one, typically) to an extension. */
export const POST: RequestHandler = async (event) => {
  const accountId = caller(event).account.id;
  const db = (await getRuntime()).db;
  if (!isUuid(event.params.id) || !(await getDevice(db, accountId, event.params.id))) return notFound();
  const body = await readJson(event.request, deviceAssignInput);
  if (!body.ok) return body.response;
  const r = await assignDevice(db, actorOf(event), accountId, event.params.id, body.data.extensionId);
  if (r === 'not_found') return notFound();
  if (r === 'extension_not_found') return json({ error: 'invalid_body', fields: { extensionId: 'extension_not_found' } }, { status: 400 });
  return json(await getDevice(db, accountId, event.params.id));
};
