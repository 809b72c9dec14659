import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { getApplication } from '#lib/server/templates/templates.ts';
import type { RequestHandler } from './$types';

/** GET → { status, total, done, … } of one application of a template. */
export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const app = await getApplication((await getRuntime()).db, caller(event).account.id, event.params.id);
  return app ? json(app) : notFound();
};
