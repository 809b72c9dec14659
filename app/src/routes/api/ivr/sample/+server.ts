import { exportIvrXml, IVR_SAMPLES } from '@carillon/core/ivr';
import { readQuery } from '#lib/server/api.ts';
import { sampleQuery } from '#lib/server/ivr/ivr.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** IVR-20's "Download Sample IVR XML Files": `?kind=single-level` or `multi-level`. */
export const GET: RequestHandler = inArea('ivr', async (event) => {
  const query = readQuery(event.url, sampleQuery);
  if (!query.ok) return query.response;
  return new Response(exportIvrXml(IVR_SAMPLES[query.data.kind]), {
    headers: { 'content-type': 'application/xml; charset=utf-8', 'content-disposition': `attachment; filename="ivr-${query.data.kind}.xml"` },
  });
});
