import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { getCall } from '#lib/server/call-log.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const call = await getCall((await getRuntime()).db, caller(event), event.params.id);
  return call ? json(call) : notFound();
};
