import { z } from 'zod';
import { parseChannelMessage } from './channel-message.ts';

/**
 * Live voicemail events (issue 13): published on this Redis channel when a
 * message is left in a mailbox (media-server), when its transcript is ready
 * or has failed for good (workers), and when it is read, unread or deleted (app), so that every app
 * node updates the unread badges of the users who read that mailbox, and
 * media-server updates message-waiting indication (RFC 3842). Ids only: the
 * reader takes the rest from the database, scoped by the account.
 */
export const VOICEMAIL_EVENTS_CHANNEL = 'carillon:voicemail-events';

export const voicemailEventSchema = z.object({
  kind: z.enum(['deposited', 'transcribed', 'changed']),
  accountId: z.string().uuid(),
  mailboxExtensionId: z.string().uuid(),
  messageId: z.string().uuid(),
});
export type VoicemailEvent = z.infer<typeof voicemailEventSchema>;

/** The event in a channel message, or null when it is not one. */
export const parseVoicemailEvent = (message: string): VoicemailEvent | null => parseChannelMessage(voicemailEventSchema, message);
