import type { Server as SocketServer } from 'socket.io';
import { smsEventAudience, smsUnreadCount } from '@carillon/core/sms';
import { parseSmsEvent, SMS_EVENTS_CHANNEL } from '@carillon/contracts/sms-events';
import { reportRedisErrors, type Runtime } from '../runtime.ts';

/** `sms`: what a browser hears when a text of one of its conversations arrives or changes status. */
export interface SmsLiveEvent {
  kind: 'received' | 'status';
  conversationId: string;
  messageId: string;
  status: string;
  /** The user's unread total after it: the Messages badge. */
  unread: number;
}

/**
 * Events being relayed at once on this node. A campaign's receipts come by
 * thousands and each costs a few queries: past this, events are dropped (a
 * live update is a convenience; the page reads the database when it loads).
 */
const MAX_RELAYS_IN_FLIGHT = 100;

type Emitter = SocketServer<Record<string, never>, { sms: (e: SmsLiveEvent) => void }>;

/**
 * Relays the workers' SMS events (SMS_EVENTS_CHANNEL) to the sockets of the
 * users who see the conversation, on this node only (io.local), so that each
 * browser hears an event once however many app nodes there are. The event
 * names ids only: who sees it and what it says is read from the database,
 * scoped by the event's account. Nothing is relayed while the area is hidden.
 */
export async function relaySmsEvents(io: SocketServer, rt: Runtime): Promise<() => Promise<void>> {
  if (!rt.config.ENABLE_UNRELEASED.includes('sms') || !rt.config.REDIS_URL) return async () => undefined;
  const emitter = io as unknown as Emitter;
  const sub = reportRedisErrors(rt.redis.duplicate(), rt.log, 'sms-events-sub');
  await sub.subscribe(SMS_EVENTS_CHANNEL);
  let inFlight = 0;
  let dropped = 0;
  sub.on('message', (_channel: string, message: string) => {
    const event = parseSmsEvent(message);
    if (!event) return;
    if (inFlight >= MAX_RELAYS_IN_FLIGHT) {
      // Logged once per burst, not once per event.
      if (dropped++ === 0) rt.log.warn('sms live events dropped: too many at once');
      return;
    }
    if (inFlight === 0) dropped = 0;
    inFlight++;
    void (async () => {
      const audience = await smsEventAudience(rt.db, event.accountId, event.messageId);
      if (!audience) return;
      for (const userId of audience.userIds) {
        const room = `user:${userId}`;
        if ((await emitter.local.in(room).fetchSockets()).length === 0) continue;
        const unread = await smsUnreadCount(rt.db, { accountId: event.accountId, userId });
        emitter.local.to(room).emit('sms', { kind: event.kind, conversationId: audience.conversationId, messageId: event.messageId, status: audience.status, unread });
      }
    })()
      .catch((err: unknown) => rt.log.warn('sms event relay failed', { error: err }))
      .finally(() => inFlight--);
  });
  return async () => {
    await sub.quit().catch(() => undefined);
  };
}
