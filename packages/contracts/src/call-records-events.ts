import { z } from 'zod';
import { parseChannelMessage } from './channel-message.ts';

/**
 * Call record events (issue 13, missed-call e-mails): media-server publishes
 * 'ended' on this Redis channel once a call's end is written to `calls` and
 * `call_legs` (calls/call-records.ts, the one place that writes it), and the
 * workers read those rows to find who missed the call. Ids only: the reader
 * takes the rest from the database, scoped by the account. Pub/sub is
 * at-most-once: an event published while no worker listens is lost.
 */
export const CALL_RECORDS_CHANNEL = 'carillon:call-records';

export const callRecordEventSchema = z.object({
  kind: z.literal('ended'),
  accountId: z.string().uuid(),
  /** The `calls` row (one segment of a session), not the SIP Call-ID. */
  callId: z.string().uuid(),
});
export type CallRecordEvent = z.infer<typeof callRecordEventSchema>;

/** The event in a channel message, or null when it is not one. */
export const parseCallRecordEvent = (message: string): CallRecordEvent | null => parseChannelMessage(callRecordEventSchema, message);
