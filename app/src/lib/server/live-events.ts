import type { Server as HttpServer } from 'node:http';
import { Server as SocketServer } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { resolveSession, SESSION_COOKIE, type AuthenticatedSession } from '@carillon/core';
import { getRuntime } from './runtime.ts';
import { allows, SOCKET_EVENT_ACCESS } from '../access-policy.ts';
import { checkServiceHealth, type ServiceHealth } from './health.ts';
import { accountPresence, type PresenceEntry } from './presence.ts';
import { PRESENCE_CHANNEL } from '@carillon/contracts/presence';
import { relayJobProgress, type JobFinishedEvent, type JobProgressEvent } from './job-progress.ts';
import { queueHealth, type QueueHealth } from './queue-health.ts';

type SocketData = { sessionToken: string; auth: AuthenticatedSession };
type Ack = (reply: unknown) => void;
/** Events a browser may emit; each is also listed, with what it requires, in SOCKET_EVENT_ACCESS. */
interface ClientEvents {
  'session:ping': (ack?: Ack) => void;
  'health:watch': (ack?: Ack) => void;
  'presence:watch': (ack?: Ack) => void;
  'queues:watch': (ack?: Ack) => void;
}
interface ServerEvents {
  health: (health: ServiceHealth) => void;
  presence: (entries: PresenceEntry[]) => void;
  queues: (health: QueueHealth) => void;
  /** Sent to `user:<id>` by relayJobProgress; no client event asks for it. */
  'job:progress': (e: JobProgressEvent) => void;
  'job:finished': (e: JobFinishedEvent) => void;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/**
 * socket.io on the app's own HTTP server. A socket is accepted only with a
 * live session cookie; every event is checked against the access policy with
 * the session re-read, so a revoked session stops at its next event.
 */
export async function attachLiveEvents(httpServer: HttpServer): Promise<SocketServer> {
  const rt = await getRuntime();
  const io = new SocketServer<ClientEvents, ServerEvents, Record<string, never>, SocketData>(httpServer, {
    path: '/socket.io',
    serveClient: false,
  });
  if (rt.config.REDIS_URL) {
    const pub = rt.redis.duplicate();
    const sub = rt.redis.duplicate();
    io.adapter(createAdapter(pub, sub, { key: 'carillon:socket.io' }));
  }

  io.use(async (socket, next) => {
    const token = readCookie(socket.handshake.headers.cookie, SESSION_COOKIE);
    const auth = token ? await resolveSession(rt.db, token, { touch: false }) : null;
    if (!token || !auth) return next(new Error('unauthenticated'));
    socket.data = { sessionToken: token, auth };
    next();
  });

  // Presence: media-server and the app announce which account changed; each app node tells its own
  // watchers (io.local), so an account's change is sent once per socket whatever the number of nodes.
  const pending = new Map<string, NodeJS.Timeout>();
  const presenceSub = rt.redis.duplicate();
  await presenceSub.subscribe(PRESENCE_CHANNEL);
  presenceSub.on('message', (_channel: string, accountId: string) => {
    if (!/^[0-9a-f-]{36}$/i.test(accountId) || pending.has(accountId)) return;
    pending.set(
      accountId,
      setTimeout(async () => {
        pending.delete(accountId);
        const room = `presence:${accountId}`;
        if ((await io.local.in(room).fetchSockets()).length === 0) return;
        io.local.to(room).emit('presence', await accountPresence(rt, accountId).catch(() => []));
      }, 50),
    );
  });
  httpServer.once('close', () => void presenceSub.quit().catch(() => undefined));
  const stopJobRelay = relayJobProgress(io as unknown as SocketServer, rt);
  httpServer.once('close', () => void stopJobRelay());

  io.on('connection', (socket) => {
    const data = socket.data as SocketData;
    // Rooms scoped by account and user, so no event can cross tenants by accident.
    void socket.join(`account:${data.auth.account.id}`);
    void socket.join(`user:${data.auth.user.id}`);
    const timers = new Set<NodeJS.Timeout>();

    socket.use(async ([event, ...args], next) => {
      const req = SOCKET_EVENT_ACCESS[event];
      const ack = typeof args.at(-1) === 'function' ? (args.at(-1) as Ack) : undefined;
      const auth = await resolveSession(rt.db, data.sessionToken, { touch: false });
      if (!auth) {
        ack?.({ error: 'unauthenticated' });
        socket.disconnect(true);
        return;
      }
      data.auth = auth;
      if (!req || !allows(auth.permissions, req)) {
        ack?.({ error: req ? 'forbidden' : 'unknown_event' });
        return;
      }
      next();
    });

    socket.on('session:ping', (ack?: Ack) => ack?.({ idleExpiresAt: data.auth.idleExpiresAt.toISOString() }));

    socket.on('presence:watch', async (ack?: Ack) => {
      void socket.join(`presence:${data.auth.account.id}`);
      ack?.({ ok: true, entries: await accountPresence(rt, data.auth.account.id) });
    });

    socket.on('health:watch', async (ack?: Ack) => {
      const send = async () => socket.emit('health', await checkServiceHealth(rt));
      await send();
      const timer = setInterval(() => void send(), 5000);
      timers.add(timer);
      ack?.({ ok: true });
    });

    socket.on('queues:watch', async (ack?: Ack) => {
      // Re-read the session each time: the failed jobs listed are the account's.
      const send = async () => socket.emit('queues', await queueHealth(rt, data.auth));
      await send().catch(() => undefined);
      const timer = setInterval(() => void send().catch(() => undefined), 5000);
      timers.add(timer);
      ack?.({ ok: true });
    });

    socket.on('disconnect', () => {
      for (const t of timers) clearInterval(t);
    });
  });
  return io;
}
