import { json } from '@sveltejs/kit';
import { deleteDevice, getDevice } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound } from '#lib/server/api.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const device = await getDevice((await getRuntime()).db, caller(event).account.id, event.params.id);
  return device ? json(device) : notFound();
};

export const DELETE: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const ok = await deleteDevice((await getRuntime()).db, actorOf(event), caller(event).account.id, event.params.id);
  return ok ? new Response(null, { status: 204 }) : notFound();
};
