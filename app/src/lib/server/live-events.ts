import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { Server as SocketServer, type Socket } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { z } from 'zod';
import { resolveSession, SESSION_COOKIE, type AuthenticatedSession } from '@carillon/core';
import { getRuntime, reportRedisErrors, type Runtime } from './runtime.ts';
import { allows, isSocketEventName, SOCKET_EVENTS, SOCKET_LIMITS, type SocketEventName } from '../access-policy.ts';
import { checkServiceHealth, type ServiceHealth } from './health.ts';
import { accountPresence, type PresenceEntry } from './presence.ts';
import { PRESENCE_CHANNEL } from '@carillon/contracts/presence';
import { QUEUE_CHANGES_CHANNEL } from '@carillon/contracts/call-queues';
import { CONFIG_CHANGES_CHANNEL, parseConfigChange } from '@carillon/contracts/config-changes';
import type { SupervisorSnapshot } from '#lib/queue-supervisor.ts';
import { supervisableQueues, supervisorSnapshot } from './queues/queue-supervisor.ts';
import { relayJobProgress, type JobFinishedEvent, type JobProgressEvent } from './job-progress.ts';
import { queueHealth, type QueueHealth } from './queue-health.ts';
import { relaySmsEvents, type SmsLiveEvent } from './sms/sms-live.ts';
import { relayVoicemailEvents, type VoicemailLiveEvent } from './voicemail/voicemail-live.ts';
import type { ConferenceLiveEvent } from '@carillon/contracts/conference-control';
import { conferenceRoom, hostedConference, relayConferenceEvents, sendConferenceCommand } from './conference-console.ts';
import type { MeetingLiveEvent } from '@carillon/contracts/meeting-control';
import { meetingHandlers, relayMeetingEvents } from './meetings/meeting-signalling.ts';

type SocketData = { sessionToken: string; auth: AuthenticatedSession };
type Ack = (reply: unknown) => void;
/** Every client event: its arguments are checked against SOCKET_EVENTS before a handler sees them. */
type ClientEvents = Record<SocketEventName, (...args: unknown[]) => void>;
interface ServerEvents {
  health: (health: ServiceHealth) => void;
  presence: (entries: PresenceEntry[]) => void;
  queues: (health: QueueHealth) => void;
  /** Sent to `queue-supervise:<account>:<queue>` (queues:supervise) whenever one of the account's queues changes. */
  'queue-supervisor': (snapshot: SupervisorSnapshot) => void;
  /** Sent to `user:<id>` by relayJobProgress; no client event asks for it. */
  'job:progress': (e: JobProgressEvent) => void;
  'job:finished': (e: JobFinishedEvent) => void;
  /** Sent to `user:<id>` by relaySmsEvents: a text of one of the user's conversations arrived or changed status. */
  sms: (e: SmsLiveEvent) => void;
  /** Sent to `user:<id>` by relayVoicemailEvents: a message of a mailbox the user reads arrived, was transcribed or changed. */
  voicemail: (e: VoicemailLiveEvent) => void;
  /** Sent to `conference:<account>:<host extension>` (conference:watch) by relayConferenceEvents. */
  conference: (e: ConferenceLiveEvent) => void;
  /** Sent to `meeting:<account>:<meeting>` (meeting:join) by relayMeetingEvents. */
  meeting: (e: MeetingLiveEvent) => void;
}
type LiveSocket = Socket<ClientEvents, ServerEvents, Record<string, never>, SocketData>;
type LiveServer = SocketServer<ClientEvents, ServerEvents, Record<string, never>, SocketData>;

/** socket.io appends the acknowledgement as a function; anything else in last place is payload. */
const ackSchema = z.custom<Ack>((v) => typeof v === 'function');

/** What a handler answers through the acknowledgement; an error reply is `{ error }`. */
type Payload<E extends SocketEventName> = z.infer<(typeof SOCKET_EVENTS)[E]['payload']>;
type Handlers = { [E in SocketEventName]: (payload: Payload<E>) => Promise<unknown> | unknown };

/** The things a socket can keep watching; each is kept once per socket. */
type WatchKind = 'health' | 'presence' | 'queues' | 'supervise';

/** How often watched figures are sent again. */
const WATCH_INTERVAL_MS = 5000;

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/**
 * The origins a browser may open a socket from: the public URL's, and the one
 * the request names itself by (Host), for an app reached under another name.
 * A page elsewhere would otherwise ride on the user's session cookie
 * (cross-site WebSocket hijacking): browsers send Origin on every WebSocket
 * handshake and cross-origin request (RFC 6455 §4.1, RFC 6454 §7). A request
 * without Origin does not come from a web page and is judged on its cookie alone.
 */
function originAllowed(req: IncomingMessage, publicUrl: string): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const pub = new URL(publicUrl);
  return origin === pub.origin || (req.headers.host !== undefined && origin === `${pub.protocol}//${req.headers.host}`);
}

/** A token bucket: `capacity` events at once, refilled at `perSecond`. */
function eventBucket(capacity: number, perSecond: number): () => boolean {
  let tokens = capacity;
  let at = performance.now();
  return () => {
    const now = performance.now();
    tokens = Math.min(capacity, tokens + ((now - at) / 1000) * perSecond);
    at = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

/**
 * Which sockets of each user keep which watch, on this node: a repeated watch
 * on one socket is the same watch, and a user keeps each kind on at most
 * SOCKET_LIMITS.watchingSocketsPerUser sockets.
 */
class Watches {
  private readonly byUser = new Map<string, Set<string>>();
  /** 'started' the first time, 'already' after, 'capped' past the user's limit. */
  start(kind: WatchKind, userId: string, socketId: string): 'started' | 'already' | 'capped' {
    const key = `${kind}:${userId}`;
    const sockets = this.byUser.get(key) ?? new Set<string>();
    if (sockets.has(socketId)) return 'already';
    if (sockets.size >= SOCKET_LIMITS.watchingSocketsPerUser) return 'capped';
    this.byUser.set(key, sockets.add(socketId));
    return 'started';
  }
  stopAll(userId: string, socketId: string): void {
    for (const kind of ['health', 'presence', 'queues', 'supervise'] as const) {
      const key = `${kind}:${userId}`;
      const sockets = this.byUser.get(key);
      sockets?.delete(socketId);
      if (sockets?.size === 0) this.byUser.delete(key);
    }
  }
}

/**
 * The service health, sent to every watching socket of this node (room
 * `health`) from one reading per interval however many watch. A reading still
 * under way when the next is due is not doubled.
 */
function healthBroadcast(io: LiveServer, rt: Runtime): () => void {
  let reading = false;
  const tick = async () => {
    if (reading || (await io.local.in('health').fetchSockets()).length === 0) return;
    reading = true;
    try {
      io.local.to('health').emit('health', await checkServiceHealth(rt));
    } finally {
      reading = false;
    }
  };
  const timer = setInterval(() => void tick().catch((err: unknown) => rt.log.warn('health broadcast failed', { error: err })), WATCH_INTERVAL_MS);
  return () => clearInterval(timer);
}

/** The room of the sockets supervising one queue; the account in the name keeps tenants apart. */
const superviseRoom = (accountId: string, queueId: string) => `queue-supervise:${accountId}:${queueId}`;

/**
 * A watch is allowed when it starts and again whenever the account's users, roles or extensions change:
 * each socket of this node in a room named `prefix…` reads its session again and keeps only the rooms
 * `allowed` still gives it (a revoked session, none), so a right taken away ends the pushes at once.
 */
async function keepAllowedRooms(io: LiveServer, rt: Runtime, prefix: string, allowed: (auth: AuthenticatedSession) => Promise<Set<string>>): Promise<void> {
  for (const socket of await io.local.fetchSockets()) {
    const rooms = [...socket.rooms].filter((r) => r.startsWith(prefix));
    if (rooms.length === 0) continue;
    const auth = await resolveSession(rt.db, socket.data.sessionToken, { touch: false });
    const keep = auth ? await allowed(auth) : new Set<string>();
    for (const room of rooms) if (!keep.has(room)) socket.leave(room);
  }
}

/** The conference consoles of the account on this node: each keeps its room only while its user still hosts that conference with the right. */
const recheckConferenceWatches = (io: LiveServer, rt: Runtime, accountId: string) =>
  keepAllowedRooms(io, rt, `conference:${accountId}:`, async (auth) => {
    const own = await hostedConference(rt, auth);
    return new Set(own ? [conferenceRoom(own.accountId, own.hostExtensionId)] : []);
  });

/**
 * The supervisor views of this node: when an account's queues change, the queues its sockets watch
 * here are read once (after 100 ms, which gathers a burst of changes) and each queue is sent to its
 * room; a wrap-up that runs out by itself is sent when it does. No browser polls.
 */
function superviseBroadcast(io: LiveServer, rt: Runtime): { changed: (accountId: string) => void; recheck: (accountId: string) => Promise<void>; stop: () => void } {
  const pending = new Map<string, NodeJS.Timeout>();
  const send = async (accountId: string) => {
    const prefix = `queue-supervise:${accountId}:`;
    const queueIds = [...io.of('/').adapter.rooms.keys()].filter((r) => r.startsWith(prefix)).map((r) => r.slice(prefix.length));
    if (queueIds.length === 0) return;
    const snapshot = await supervisorSnapshot(rt, accountId, queueIds);
    for (const q of snapshot.queues) io.local.to(superviseRoom(accountId, q.id)).emit('queue-supervisor', { serverNow: snapshot.serverNow, queues: [q] });
    if (snapshot.nextChangeMs !== null) changed(accountId, snapshot.nextChangeMs + 50);
  };
  const changed = (accountId: string, delayMs = 100) => {
    const timer = pending.get(accountId);
    if (timer && delayMs >= 100) return;
    if (timer) clearTimeout(timer);
    pending.set(
      accountId,
      setTimeout(() => {
        pending.delete(accountId);
        void send(accountId).catch((err: unknown) => rt.log.warn('queue supervisor broadcast failed', { accountId, error: err }));
      }, delayMs),
    );
  };
  /**
   * The account's managers, roles or users changed: each watching socket of this node keeps only the
   * queues its user may still supervise (its session read again), so a manager removed stops seeing them.
   */
  const recheck = (accountId: string) =>
    keepAllowedRooms(io, rt, `queue-supervise:${accountId}:`, async (auth) => new Set((await supervisableQueues(rt, auth)).map((q) => superviseRoom(accountId, q.id))));
  return {
    changed: (accountId) => changed(accountId),
    recheck,
    stop: () => {
      for (const t of pending.values()) clearTimeout(t);
      pending.clear();
    },
  };
}

/**
 * socket.io on the app's own HTTP server. A socket is accepted only with a
 * live session cookie and from the app's own origin. Every event goes
 * through one gate, in this order: the socket's rate limit, the session
 * re-read (so a revoked session stops at its next event), the event's access
 * requirement and its payload schema (SOCKET_EVENTS); only then does its
 * handler run, and whatever it throws becomes an error reply, never a crash.
 */
export async function attachLiveEvents(httpServer: HttpServer): Promise<SocketServer> {
  const rt = await getRuntime();
  const io: LiveServer = new SocketServer(httpServer, {
    path: '/socket.io',
    serveClient: false,
    maxHttpBufferSize: SOCKET_LIMITS.maxMessageBytes,
    allowRequest: (req, callback) => {
      const allowed = originAllowed(req, rt.config.publicUrl);
      callback(allowed ? null : 'origin not allowed', allowed);
    },
  });
  if (rt.config.REDIS_URL) {
    const pub = reportRedisErrors(rt.redis.duplicate(), rt.log, 'socket.io-pub');
    const sub = reportRedisErrors(rt.redis.duplicate(), rt.log, 'socket.io-sub');
    io.adapter(createAdapter(pub, sub, { key: 'carillon:socket.io' }));
  }

  // Open sockets by user on this node: each holds memory and a share of every broadcast.
  const socketsOf = new Map<string, number>();
  io.use(async (socket, next) => {
    try {
      const token = readCookie(socket.handshake.headers.cookie, SESSION_COOKIE);
      const auth = token ? await resolveSession(rt.db, token, { touch: false }) : null;
      if (!token || !auth) return next(new Error('unauthenticated'));
      const userId = auth.user.id;
      if ((socketsOf.get(userId) ?? 0) >= SOCKET_LIMITS.socketsPerUser) return next(new Error('too_many_sockets'));
      // Counted from here, not from 'connection', so that handshakes in parallel can't all pass;
      // released when the connection closes, whether or not it got as far as 'connection'.
      socketsOf.set(userId, (socketsOf.get(userId) ?? 0) + 1);
      socket.conn.once('close', () => {
        const left = (socketsOf.get(userId) ?? 1) - 1;
        if (left > 0) socketsOf.set(userId, left);
        else socketsOf.delete(userId);
      });
      socket.data = { sessionToken: token, auth };
      next();
    } catch (err) {
      rt.log.warn('socket handshake failed', { error: err });
      next(new Error('unavailable'));
    }
  });

  // Presence: media-server and the app announce which account changed; each app node tells its own
  // watchers (io.local), so an account's change is sent once per socket whatever the number of nodes.
  const pending = new Map<string, NodeJS.Timeout>();
  const presenceSub = reportRedisErrors(rt.redis.duplicate(), rt.log, 'presence-sub');
  await presenceSub.subscribe(PRESENCE_CHANNEL);
  // The call queues' supervisor views: the members' calls, phones and DND (presence), the queues' callers and marks
  // (media-server on QUEUE_CHANGES_CHANNEL) and their members' log-ins (a config change of 'queues').
  const supervision = superviseBroadcast(io, rt);
  httpServer.once('close', supervision.stop);
  await presenceSub.subscribe(QUEUE_CHANGES_CHANNEL, CONFIG_CHANGES_CHANNEL);
  presenceSub.on('message', (channel: string, message: string) => {
    if (channel === CONFIG_CHANGES_CHANNEL) {
      const change = parseConfigChange(message);
      if (change?.subjects.some((s) => s === 'queues' || s === 'extensions' || s === 'users')) {
        const accountId = change.accountId;
        void supervision
          .recheck(accountId)
          .then(() => supervision.changed(accountId))
          .catch((err: unknown) => rt.log.warn('queue supervisor recheck failed', { accountId, error: err }));
        void recheckConferenceWatches(io, rt, accountId).catch((err: unknown) => rt.log.warn('conference console recheck failed', { accountId, error: err }));
      }
      return;
    }
    if (/^[0-9a-f-]{36}$/i.test(message)) supervision.changed(message);
  });
  presenceSub.on('message', (channel: string, accountId: string) => {
    if (channel !== PRESENCE_CHANNEL || !/^[0-9a-f-]{36}$/i.test(accountId) || pending.has(accountId)) return;
    pending.set(
      accountId,
      setTimeout(() => {
        pending.delete(accountId);
        void (async () => {
          const room = `presence:${accountId}`;
          if ((await io.local.in(room).fetchSockets()).length === 0) return;
          io.local.to(room).emit('presence', await accountPresence(rt, accountId));
        })().catch((err: unknown) => rt.log.warn('presence broadcast failed', { accountId, error: err }));
      }, 50),
    );
  });
  httpServer.once('close', () => void presenceSub.quit().catch(() => undefined));
  const stopJobRelay = relayJobProgress(io as unknown as SocketServer, rt);
  httpServer.once('close', () => void stopJobRelay());
  const stopSmsRelay = await relaySmsEvents(io as unknown as SocketServer, rt);
  httpServer.once('close', () => void stopSmsRelay());
  const stopVoicemailRelay = await relayVoicemailEvents(io as unknown as SocketServer, rt);
  httpServer.once('close', () => void stopVoicemailRelay());
  const stopConferenceRelay = await relayConferenceEvents(io as unknown as SocketServer, rt);
  httpServer.once('close', () => void stopConferenceRelay());
  const stopMeetingRelay = await relayMeetingEvents(io as unknown as SocketServer, rt);
  httpServer.once('close', () => void stopMeetingRelay());
  const stopHealth = healthBroadcast(io, rt);
  httpServer.once('close', stopHealth);
  const watches = new Watches();

  io.on('connection', (socket) => {
    const data = socket.data;
    const userId = data.auth.user.id;
    // Rooms scoped by account and user, so no event can cross tenants by accident.
    void socket.join(`account:${data.auth.account.id}`);
    void socket.join(`user:${data.auth.user.id}`);
    const handlers = eventHandlers(socket, rt, watches);
    const takeEvent = eventBucket(SOCKET_LIMITS.eventBurst, SOCKET_LIMITS.eventsPerSecond);

    // Every event stops here: none reaches a listener of its own (next is never called).
    socket.use(([event, ...args]) => {
      const ack = ackSchema.safeParse(args.at(-1)).success ? (args.pop() as Ack) : undefined;
      // Without an acknowledgement the client asked for no answer: a refused event is dropped.
      const reply = (r: unknown) => ack?.(r);
      if (!takeEvent()) return reply({ error: 'rate_limited' });
      void (async () => {
        const auth = await resolveSession(rt.db, data.sessionToken, { touch: false });
        if (!auth) {
          reply({ error: 'unauthenticated' });
          socket.disconnect(true);
          return;
        }
        data.auth = auth;
        if (!isSocketEventName(event)) return reply({ error: 'unknown_event' });
        const spec = SOCKET_EVENTS[event];
        if (!allows(auth.permissions, spec.access)) return reply({ error: 'forbidden' });
        const payload = spec.payload.safeParse(args);
        if (!payload.success) return reply({ error: 'invalid_payload' });
        reply(await (handlers[event] as (p: unknown) => unknown)(payload.data));
      })().catch((err: unknown) => {
        rt.log.warn('socket event failed', { event: typeof event === 'string' ? event.slice(0, 100) : typeof event, error: err });
        reply({ error: 'internal' });
      });
    });

    socket.on('disconnect', () => watches.stopAll(userId, socket.id));
  });
  return io as unknown as SocketServer;
}

/** What each event does once the gate let it through; the value returned is the acknowledgement. */
function eventHandlers(socket: LiveSocket, rt: Runtime, watches: Watches): Handlers {
  const data = socket.data;
  const watch = (kind: WatchKind) => watches.start(kind, data.auth.user.id, socket.id);
  const timers = new Set<NodeJS.Timeout>();
  socket.on('disconnect', () => {
    for (const t of timers) clearInterval(t);
  });
  return {
    ...meetingHandlers(socket as unknown as Socket, rt, () => data.auth),
    'session:ping': () => ({ idleExpiresAt: data.auth.idleExpiresAt.toISOString() }),

    'presence:watch': async () => {
      if (watch('presence') === 'capped') return { error: 'too_many_watches' };
      await socket.join(`presence:${data.auth.account.id}`);
      return { ok: true, entries: await accountPresence(rt, data.auth.account.id) };
    },

    'health:watch': async () => {
      const state = watch('health');
      if (state === 'capped') return { error: 'too_many_watches' };
      if (state === 'started') {
        socket.emit('health', await checkServiceHealth(rt));
        await socket.join('health');
      }
      return { ok: true };
    },

    'queues:supervise': async ([{ queueIds }]) => {
      if (!rt.config.ENABLE_UNRELEASED.includes('queues')) return { error: 'not_found' };
      const accountId = data.auth.account.id;
      const allowed = new Set((await supervisableQueues(rt, data.auth)).map((q) => q.id));
      // Another account's queue, or one the user neither administers nor manages: named, and nothing is watched.
      const refused = queueIds.filter((id) => !allowed.has(id));
      if (refused.length) return { error: 'not_found', queueIds: refused };
      if (watch('supervise') === 'capped') return { error: 'too_many_watches' };
      // A new subscription replaces the socket's previous one.
      for (const room of [...socket.rooms]) if (room.startsWith('queue-supervise:')) await socket.leave(room);
      for (const id of new Set(queueIds)) await socket.join(superviseRoom(accountId, id));
      const { serverNow, queues } = await supervisorSnapshot(rt, accountId, queueIds);
      return { ok: true, serverNow, queues } satisfies SupervisorSnapshot & { ok: true };
    },

    'conference:watch': async ([{ hostExtensionId }]) => {
      if (!rt.config.ENABLE_UNRELEASED.includes('conference')) return { error: 'not_found' };
      const own = await hostedConference(rt, data.auth);
      // Only the host watches their conference: another user's, or another account's, is refused without saying whether it exists.
      if (!own || own.hostExtensionId !== hostExtensionId) return { error: 'forbidden' };
      for (const room of [...socket.rooms]) if (room.startsWith('conference:')) await socket.leave(room);
      // Joined before the roster is read: a change in between arrives as an event after it, never lost.
      await socket.join(conferenceRoom(own.accountId, own.hostExtensionId));
      const now = await sendConferenceCommand(rt, data.auth, { userId: data.auth.user.id, ip: null }, { type: 'roster' });
      return { ok: true, live: now.status === 'done', roster: now.status === 'done' ? now.roster : null };
    },

    'queues:watch': async () => {
      const state = watch('queues');
      if (state === 'capped') return { error: 'too_many_watches' };
      if (state === 'started') {
        // Re-read the session each time: the failed jobs listed are the account's.
        const send = async () => socket.emit('queues', await queueHealth(rt, data.auth));
        const sendOrLog = () => send().catch((err: unknown) => rt.log.warn('queue health failed', { error: err }));
        await sendOrLog();
        timers.add(setInterval(() => void sendOrLog(), WATCH_INTERVAL_MS));
      }
      return { ok: true };
    },
  };
}
