import { z } from 'zod';
import { parseChannelMessage } from './channel-message.ts';

/**
 * Live text-message events (issue 18): the workers publish one on this Redis
 * channel whenever a text is received or an outbound text changes status
 * (sent, delivered, failed, unknown); every app node reads them and tells the
 * sockets of the users who see that conversation. The event names ids only:
 * the app reads the rest from the database, scoped by the account, so a
 * forged or stale event can reveal nothing.
 */
export const SMS_EVENTS_CHANNEL = 'carillon:sms-events';

export const smsEventSchema = z.object({
  kind: z.enum(['received', 'status']),
  accountId: z.string().uuid(),
  messageId: z.string().uuid(),
});
export type SmsEvent = z.infer<typeof smsEventSchema>;

/** The event in a channel message, or null when it is not one. */
export const parseSmsEvent = (message: string): SmsEvent | null => parseChannelMessage(smsEventSchema, message);
