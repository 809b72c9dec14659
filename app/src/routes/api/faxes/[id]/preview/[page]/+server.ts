import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { previewPage } from '#lib/server/fax/faxes.ts';
import type { RequestHandler } from './$types';

/** A rendered page of one of the caller's faxes as a PNG thumbnail (pages count from 1). */
export const GET: RequestHandler = async (event) => {
  const page = Number(event.params.page);
  if (!isUuid(event.params.id) || !Number.isInteger(page) || page < 1 || page > 10_000) return notFound();
  const png = await previewPage(await getRuntime(), caller(event), event.params.id, page);
  if (!png) return notFound();
  return new Response(new Uint8Array(png), { headers: { 'content-type': 'image/png', 'cache-control': 'private, max-age=3600' } });
};
