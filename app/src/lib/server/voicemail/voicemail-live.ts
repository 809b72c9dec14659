import type { Server as SocketServer } from 'socket.io';
import { voicemailReadersOf, voicemailUnreadCount } from '@carillon/core/voicemail';
import { parseVoicemailEvent, VOICEMAIL_EVENTS_CHANNEL } from '@carillon/contracts/voicemail-events';
import { reportRedisErrors, type Runtime } from '../runtime.ts';

/** `voicemail`: what a browser hears when a message of a mailbox its user reads arrives, is transcribed or changes. */
export interface VoicemailLiveEvent {
  kind: 'deposited' | 'transcribed' | 'changed';
  mailboxExtensionId: string;
  messageId: string;
  /** The user's new messages after it, over all the mailboxes they read: the badge. */
  unread: number;
}

/** Events being relayed at once on this node; past this they are dropped (the page reads the database when it loads). */
const MAX_RELAYS_IN_FLIGHT = 100;

type Emitter = SocketServer<Record<string, never>, { voicemail: (e: VoicemailLiveEvent) => void }>;

/**
 * Relays VOICEMAIL_EVENTS_CHANNEL (media-server's deposits, the workers'
 * transcripts, the app's own changes) to the sockets of the users who read
 * that mailbox, on this node only (io.local), so each browser hears an event
 * once however many app nodes there are. A message that is not a well-formed
 * event is ignored; who hears it is read from the database, scoped by the
 * event's account. Nothing is relayed while the area is hidden.
 */
export async function relayVoicemailEvents(io: SocketServer, rt: Runtime): Promise<() => Promise<void>> {
  if (!rt.config.ENABLE_UNRELEASED.includes('voicemail') || !rt.config.REDIS_URL) return async () => undefined;
  const emitter = io as unknown as Emitter;
  const sub = reportRedisErrors(rt.redis.duplicate(), rt.log, 'voicemail-events-sub');
  await sub.subscribe(VOICEMAIL_EVENTS_CHANNEL);
  let inFlight = 0;
  let dropped = 0;
  sub.on('message', (_channel: string, message: string) => {
    const event = parseVoicemailEvent(message);
    if (!event) return;
    if (inFlight >= MAX_RELAYS_IN_FLIGHT) {
      // Logged once per burst, not once per event.
      if (dropped++ === 0) rt.log.warn('voicemail live events dropped: too many at once');
      return;
    }
    if (inFlight === 0) dropped = 0;
    inFlight++;
    void (async () => {
      for (const userId of await voicemailReadersOf(rt.db, event.accountId, event.mailboxExtensionId)) {
        const room = `user:${userId}`;
        if ((await emitter.local.in(room).fetchSockets()).length === 0) continue;
        const unread = await voicemailUnreadCount(rt.db, { accountId: event.accountId, userId });
        emitter.local.to(room).emit('voicemail', { kind: event.kind, mailboxExtensionId: event.mailboxExtensionId, messageId: event.messageId, unread });
      }
    })()
      .catch((err: unknown) => rt.log.warn('voicemail event relay failed', { error: err }))
      .finally(() => inFlight--);
  });
  return async () => {
    await sub.quit().catch(() => undefined);
  };
}
