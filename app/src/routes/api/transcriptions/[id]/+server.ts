import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { getTranscription } from '#lib/server/transcriptions.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const t = await getTranscription((await getRuntime()).db, caller(event), event.params.id);
  return t ? json(t) : notFound();
};
