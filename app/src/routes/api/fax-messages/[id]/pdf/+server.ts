import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { openFaxMessagePdf } from '#lib/server/fax/faxes.ts';
import type { RequestHandler } from './$types';

/** A received fax as PDF; opening it marks it read. */
export const GET: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const file = await openFaxMessagePdf((await getRuntime()).db, caller(event), event.params.id);
  if (!file) return notFound();
  return new Response(new Uint8Array(file.data), {
    headers: {
      'content-type': 'application/pdf',
      'content-length': String(file.data.length),
      'content-disposition': `inline; filename="${file.fileName}"`,
      'cache-control': 'private, no-store',
    },
  });
};
