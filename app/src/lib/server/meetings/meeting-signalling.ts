import { randomUUID } from 'node:crypto';
import type { Server as SocketServer, Socket } from 'socket.io';
import type { AuthenticatedSession } from '@carillon/core';
import { parseCallOwner } from '@carillon/contracts/call-control';
import {
  MEETING_CLAIM_CHANNEL,
  MEETING_CODECS,
  MEETING_EVENTS_CHANNEL,
  meetingCommandChannel,
  meetingOwnerKey,
  parseMeetingEvent,
  type MeetingCommand,
  type MeetingCommandResult,
  type MeetingLiveEvent,
  type MeetingRequest,
} from '@carillon/contracts/meeting-control';
import { commandResultsOn, COMMAND_TIMEOUT_MS } from '../call-control.ts';
import { reportRedisErrors, type Runtime } from '../runtime.ts';
import { readJoinToken } from './join-tokens.ts';

/**
 * The app's side of a meeting's signalling (issue 17): a browser that passed the passcode check
 * (`POST /api/meetings/[number]/join` gave it a join token) joins with `meeting:join`, and then asks
 * for transports, producers and consumers with `meeting:signal`. Each becomes a command for the
 * media-server node that hosts the meeting (contracts/meeting-control.ts), answered in the
 * acknowledgement. A socket is in one meeting at most, as one peer; when it leaves or disconnects,
 * its peer leaves the meeting. What the meeting tells (new producers, peers gone) reaches the
 * meeting's sockets on this app node, in a room named by account and meeting.
 */

export const meetingRoom = (accountId: string, meetingId: string) => `meeting:${accountId}:${meetingId}`;

interface Joined {
  accountId: string;
  meetingId: string;
  peerId: string;
}

const joinedBy = new WeakMap<Socket, Joined>();

const results = (rt: Runtime) =>
  commandResultsOn(rt, MEETING_EVENTS_CHANNEL, (message): MeetingCommandResult | null => {
    const event = parseMeetingEvent(message);
    return event?.type === 'command-result' ? event : null;
  });

type Reply = Record<string, unknown>;

function answer(result: MeetingCommandResult | null): Reply {
  if (!result) return { error: 'unavailable' };
  const { outcome, reason, peers, transport, producerId, consumer } = result;
  if (outcome !== 'done') return { error: outcome, ...(reason ? { reason } : {}) };
  return { ok: true, ...(peers ? { peers } : {}), ...(transport ? { transport } : {}), ...(producerId ? { producerId } : {}), ...(consumer ? { consumer } : {}) };
}

/** Sends a command to the node that hosts the meeting; a join of a meeting no node hosts goes to the claim channel. */
async function send(rt: Runtime, command: MeetingCommand): Promise<MeetingCommandResult | null> {
  const owner = parseCallOwner(await rt.redis.get(meetingOwnerKey(command.meetingId)));
  if (owner && owner.accountId !== command.accountId) return null;
  const channel = owner ? meetingCommandChannel(owner.nodeId) : command.type === 'join' ? MEETING_CLAIM_CHANNEL : null;
  if (!channel) return { type: 'command-result', commandId: command.commandId, accountId: command.accountId, meetingId: command.meetingId, outcome: 'not_found', reason: 'the meeting is not running' };
  return (await results(rt)).send(channel, command, COMMAND_TIMEOUT_MS);
}

async function leave(rt: Runtime, socket: Socket, joined: Joined): Promise<void> {
  joinedBy.delete(socket);
  await socket.leave(meetingRoom(joined.accountId, joined.meetingId));
  await send(rt, { type: 'leave', commandId: randomUUID(), ...joined });
}

export function meetingHandlers(socket: Socket, rt: Runtime, auth: () => AuthenticatedSession) {
  socket.on('disconnect', () => {
    const joined = joinedBy.get(socket);
    if (joined) void leave(rt, socket, joined).catch((err: unknown) => rt.log.warn('meeting leave failed', { meetingId: joined.meetingId, error: err }));
  });
  const enabled = () => rt.config.ENABLE_UNRELEASED.includes('meetings');
  return {
    'meeting:join': async ([{ joinToken }]: [{ joinToken: string }]): Promise<Reply> => {
      if (!enabled()) return { error: 'not_found' };
      const a = auth();
      const grant = await readJoinToken(rt.redis, joinToken, a.account.id, a.user.id);
      // Another user's token, another account's, or an expired one: the same answer.
      if (!grant) return { error: 'forbidden' };
      const previous = joinedBy.get(socket);
      if (previous) await leave(rt, socket, previous);
      const joined: Joined = { accountId: a.account.id, meetingId: grant.meetingId, peerId: randomUUID() };
      const room = meetingRoom(joined.accountId, joined.meetingId);
      // Joined before the command: a producer announced in between arrives as an event, never lost.
      await socket.join(room);
      const displayName = [a.user.first_name, a.user.last_name].filter(Boolean).join(' ') || a.user.email;
      const reply = answer(await send(rt, { type: 'join', commandId: randomUUID(), ...joined, userId: a.user.id, displayName }));
      if (!reply.ok) {
        await socket.leave(room);
        return reply;
      }
      joinedBy.set(socket, joined);
      return { ...reply, peerId: joined.peerId, codecs: MEETING_CODECS };
    },

    'meeting:signal': async ([request]: [MeetingRequest]): Promise<Reply> => {
      if (!enabled()) return { error: 'not_found' };
      const joined = joinedBy.get(socket);
      if (!joined) return { error: 'not_joined' };
      if (request.type === 'leave') {
        await leave(rt, socket, joined);
        return { ok: true };
      }
      return answer(await send(rt, { ...request, commandId: randomUUID(), ...joined } as MeetingCommand));
    },
  };
}

type Emitter = SocketServer<Record<string, never>, { meeting: (e: MeetingLiveEvent) => void }>;

/** Relays what the nodes' meetings tell (MEETING_EVENTS_CHANNEL) to the meeting's sockets on this node. */
export async function relayMeetingEvents(io: SocketServer, rt: Runtime): Promise<() => Promise<void>> {
  if (!rt.config.ENABLE_UNRELEASED.includes('meetings') || !rt.config.REDIS_URL) return async () => undefined;
  const emitter = io as unknown as Emitter;
  const sub = reportRedisErrors(rt.redis.duplicate(), rt.log, 'meeting-events-sub');
  await sub.subscribe(MEETING_EVENTS_CHANNEL);
  sub.on('message', (_channel: string, message: string) => {
    const event = parseMeetingEvent(message);
    if (!event || event.type === 'command-result') return;
    emitter.local.to(meetingRoom(event.accountId, event.meetingId)).emit('meeting', event);
  });
  return async () => {
    await sub.quit().catch(() => undefined);
  };
}
