import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { findFax } from '#lib/server/fax/faxes.ts';
import type { RequestHandler } from './$types';

/** One of the caller's faxes, with its attachments, recipients and preview pages. */
export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const fax = await findFax((await getRuntime()).db, caller(event), event.params.id);
  return fax ? json(fax) : notFound();
};
