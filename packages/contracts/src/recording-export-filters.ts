import { z } from 'zod';

/** Results a call log row can have, as the calls table checks them. */
export const CALL_RESULTS = ['answered', 'missed', 'busy', 'no_answer', 'rejected', 'cancelled', 'unavailable', 'failed', 'not_found', 'forbidden', 'transferred'] as const;

/**
 * What a user asks to export: the call log's filters (seed 000 "Rapports du
 * journal des appels"), as `POST /api/calls/recordings-export` accepts them.
 * The recorded-calls filter is implied.
 */
export const recordingExportRequest = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    direction: z.enum(['internal', 'inbound', 'outbound']).optional(),
    result: z.enum(CALL_RESULTS).optional(),
    /** "mine": the user's own extension even for someone who may see the company's log. */
    scope: z.enum(['mine', 'company']).default('company'),
  })
  .strict()
  .refine((f) => !f.from || !f.to || Date.parse(f.from) < Date.parse(f.to), { message: 'must be after "from"', path: ['to'] });
export type RecordingExportRequest = z.output<typeof recordingExportRequest>;

/**
 * The filters stored with an export, once the caller's rights are applied:
 * `extensionId` is the only extension whose calls may be exported, or null
 * for the whole company. The worker re-reads them from the database, so a
 * retried job exports the same calls.
 */
export const recordingExportFilters = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  direction: z.enum(['internal', 'inbound', 'outbound']).optional(),
  result: z.enum(CALL_RESULTS).optional(),
  extensionId: z.uuid().nullable(),
});
export type RecordingExportFilters = z.output<typeof recordingExportFilters>;

/** The stored filters for a request: a user without the company call log only ever exports their own calls. */
export function effectiveExportFilters(
  request: RecordingExportRequest,
  caller: { extensionId: string; mayExportCompany: boolean },
): RecordingExportFilters {
  const { scope, ...filters } = request;
  return { ...filters, extensionId: scope === 'company' && caller.mayExportCompany ? null : caller.extensionId };
}
