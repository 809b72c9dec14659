import { smsCampaignReport } from '@carillon/core/sms';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** The campaign's report as CSV, streamed: one line per line of the upload (sent, delivered, failed with its code, opted out, skipped). */
export const GET: RequestHandler = inArea('sms', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const lines = await smsCampaignReport((await getRuntime()).db, caller(event).account.id, event.params.id);
  if (!lines) return notFound();
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await lines.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
  return new Response(body, {
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="campaign-${event.params.id}.csv"` },
  });
});
